// parse_args: runs a command's CLI11 parser over its arguments. --help prints the grouped options
// with defaults to stdout; any parse error becomes bertc::UsageError (exit 2, one line).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "app/device_choice.h"
#include "app/text_modes.h"
#include "tools/commands.h"

namespace bertc {

// Returns false when --help was printed and the command should exit 0.
bool parse_args(CLI::App& app, const Args& args);

// Adds the "Device" options of every command that runs a model to `app`: --device, --dtype,
// --threads and, when asked, --allow-tf32. dtype_flag: "--dtype", or another name where the
// command's --dtype means something else (index build: the stored embeddings).
void add_device_flags(CLI::App& app, DeviceChoice& device, bool with_tf32,
                      const std::string& dtype_flag = "--dtype");

// Adds -m, --w2v, the modes option (named `modes_flag`), the device flags and -q to `app`.
void add_mode_flags(CLI::App& app, ModeOptions& options, const std::string& modes_flag,
                    const std::string& dtype_flag = "--dtype");

}  // namespace bertc
