// DeviceChoice: the device, run precision and threads a user asked for, by name ("cpu" | "cuda" |
// "auto", "f32" | "f16" | "bf16"), resolved into BackendOptions only when a model is loaded, so
// that asking for "auto" warns (and "cuda" without a GPU fails) only where a backend is needed.
// The CLI's --device/--dtype/--threads flags fill one (tools/args.h); so does the Python package.
#pragma once

#include <string>

#include "engine/backend.h"

namespace bertc {

struct DeviceChoice {
  std::string device = "cpu";
  std::string dtype = "f32";
  int threads = 0;  // CPU; 0 = bertc's default (tools: every core it may use)
  bool allow_tf32 = false;

  // resolve_device (may warn, or throw for cuda without a GPU), dtype, threads.
  BackendOptions backend_options() const;
};

}  // namespace bertc
