// One entry point per subcommand; each lives in tools/<command>.cc and parses its own options
// with CLI11. They throw bertc::Error (exit 1) or bertc::UsageError (exit 2); main prints one line.
#pragma once

#include <string>
#include <vector>

namespace bertc {

using Args = std::vector<std::string>;  // arguments after the subcommand name

int run_convert(const Args& args);
int run_inspect(const Args& args);
int run_tokenize(const Args& args);
int run_similarity(const Args& args);
int run_search(const Args& args);
int run_index(const Args& args);
int run_embed(const Args& args);
int run_validate(const Args& args);
int run_bench(const Args& args);
int run_serve(const Args& args);

}  // namespace bertc
