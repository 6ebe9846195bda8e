// Backend selection: make_backend.cc is the only file that asks whether CUDA was built in.
#pragma once

#include <memory>
#include <string_view>

#include "engine/backend.h"

namespace bertc {

bool cuda_built();             // this binary contains the CUDA backend
bool cuda_device_available();  // cuda_built() and at least one device answers

// "cpu" | "cuda" | "auto" -> a device. auto picks CUDA when a device is present and otherwise
// warns once on stderr and uses the CPU; "cuda" without a device throws.
Device resolve_device(std::string_view name);

// Throws "bertc was built without CUDA support (reconfigure with -DBERTC_CUDA=ON)" when asked
// for CUDA in a CPU-only build.
std::unique_ptr<Backend> make_backend(const BackendOptions& options);

}  // namespace bertc
