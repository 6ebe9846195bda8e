// CLI11 glue shared by the subcommands: parse Args, print --help, turn parse errors into
// bertc::UsageError (exit 2) so main() prints them as one line.
#pragma once

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "engine/error.h"
#include "tools/commands.h"

namespace bertc {

// Returns false when --help was printed (the command then returns 0).
inline bool parse_args(CLI::App& app, const Args& args) {
  // CLI11 takes a vector in reverse order (it pops arguments from the back).
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return false;
  } catch (const CLI::ParseError& e) {
    throw UsageError(str_cat(e.what(), " (see --help)"));
  }
  return true;
}

}  // namespace bertc
