// parse_args: runs a command's CLI11 parser over its arguments. --help prints the grouped options
// with defaults to stdout; any parse error becomes bertc::UsageError (exit 2, one line).
#pragma once

#include <CLI/CLI.hpp>

#include "tools/commands.h"

namespace bertc {

// Returns false when --help was printed and the command should exit 0.
bool parse_args(CLI::App& app, const Args& args);

}  // namespace bertc
