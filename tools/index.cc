// bertc index build: flags and messages around build_index (app/index.h).
// Checked by tests/cli/search_cli_test.cc.
#include <cstdio>

#include "app/index.h"
#include "app/text_modes.h"
#include "common/error.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace bertc {
namespace {

int run_index_build(const Args& args) {
  CLI::App app{"Embed a corpus once per mode into a search index directory", "bertc index build"};
  ModeOptions modes;
  InputFlags input;
  IndexBuildOptions options;
  app.add_option("--corpus", options.corpus_path,
                 "one document per line, or JSON lines {\"text\", \"id\"?} in a FILE.jsonl")
      ->required()->group("Input");
  add_input_flags(app, input);
  add_mode_flags(app, modes);
  add_deprecated_alias(app, "--modes", "--pool", modes.modes);
  add_deprecated_alias(app, "--run-dtype", "--dtype", modes.device.dtype);
  app.add_option("-o,--output", options.out_dir, "index directory (an interrupted build there resumes)")
      ->required()->group("Output");
  app.add_option("--store-dtype", options.dtype,
                 "stored embeddings: f32, or f16 (half the size and scan time)")
      ->check(CLI::IsMember({"f32", "f16"}))->capture_default_str()->group("Output");
  app.add_option("--chunk", options.chunk_rows, "documents per chunk (the unit of resumption)")
      ->capture_default_str()->group("Output")->check(integer_in(1, 1ll << 40));
  if (!parse_args(app, args)) return 0;
  // Before --store-dtype, --dtype here meant the storage; say so where the old meaning shows.
  if (modes.device.dtype == "f16" && modes.device.device == "cpu")
    throw UsageError("--dtype f16: the run precision (as in every command) is f16 on CUDA only; "
                     "for f16 storage use --store-dtype f16");

  options.input = input.options();
  options.quiet = modes.quiet;
  const TextModes text_modes(modes);
  build_index(options, text_modes);
  return 0;
}

}  // namespace

int run_index(const Args& args) {
  if (!args.empty() && args[0] == "build") return run_index_build(Args(args.begin() + 1, args.end()));
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    std::printf("Usage: bertc index build --corpus FILE [-m MODEL] [--w2v W2V] [--pool ...] -o INDEX\n"
                "       (bertc index build --help for its options; search with bertc search --index INDEX)\n");
    return 0;
  }
  throw UsageError("expected a subcommand: bertc index build ... (see bertc index --help)");
}

}  // namespace bertc
