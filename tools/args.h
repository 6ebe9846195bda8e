// The flags every command shares, so one concept has one name everywhere, and parse_args, which
// runs a command's CLI11 parser over its arguments: --help prints the grouped options with
// defaults to stdout; any parse error becomes bertc::UsageError (exit 2, one line).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "app/device_choice.h"
#include "app/text_input.h"
#include "app/text_modes.h"
#include "tools/commands.h"

namespace bertc {

// Returns false when --help was printed and the command should exit 0.
bool parse_args(CLI::App& app, const Args& args);

// Adds the "Device" options of every command that runs a model to `app`: --device, --dtype (the
// run precision), --threads and, when asked, --allow-tf32.
void add_device_flags(CLI::App& app, DeviceChoice& device, bool with_tf32);

// Adds -m, --w2v, --pool (the modes: BERT poolings and w2v; its help states TextModes' default),
// the device flags and -q to `app`.
void add_mode_flags(CLI::App& app, ModeOptions& options);

// --input-format and --utf8-errors, as every command that reads text has them.
struct InputFlags {
  std::string format = "auto";
  std::string utf8_errors = "error";
  InputOptions options() const;  // throws UsageError for a bad --input-format
};
void add_input_flags(CLI::App& app, InputFlags& flags);

// An old flag name kept working for one release: sets `target` like `new_name` does and prints a
// note on stderr saying so.
void add_deprecated_alias(CLI::App& app, const std::string& old_name, const std::string& new_name,
                          std::string& target);

// On a terminal, says on stderr that `command` now reads `what` from stdin and how to end it.
void hint_reading_stdin(const std::string& command, const std::string& what);

// A CLI11 check for an integer option: "'abc' is not an integer", "5000 is not in 0..4096".
CLI::Validator integer_in(long long lo, long long hi);
// A CLI11 check for a comma-separated list of modes: "no mode given (CHOICES)" when blank.
CLI::Validator nonblank_list(const std::string& choices);

}  // namespace bertc
