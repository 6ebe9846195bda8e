// parse_args: runs a command's CLI11 parser over its arguments. --help prints the grouped options
// with defaults to stdout; any parse error becomes bertc::UsageError (exit 2, one line).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "engine/backend.h"
#include "tools/commands.h"

namespace bertc {

// Returns false when --help was printed and the command should exit 0.
bool parse_args(CLI::App& app, const Args& args);

// The "Device" options of every command that runs a model: --device, --dtype, --threads and, when
// asked, --allow-tf32.
struct DeviceFlags {
  std::string device = "cpu";
  std::string dtype = "f32";
  int threads = 0;
  bool allow_tf32 = false;

  // dtype_flag: "--dtype", or another name where the command's --dtype means something else
  // (index build: the stored embeddings).
  void add_to(CLI::App& app, bool with_tf32, const std::string& dtype_flag = "--dtype");
  // device resolved (resolve_device: may warn, or throw for cuda without a GPU), dtype, threads.
  BackendOptions backend_options() const;
};

}  // namespace bertc
