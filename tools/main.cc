// bertc: subcommand dispatch, --version, and the one place errors become a line and an exit code.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "bertc_version.h"
#include "common/error.h"
#include "engine/make_backend.h"
#include "kernels/cpu/cpu_plan.h"
#include "tools/commands.h"
#include "app/model_path.h"

namespace bertc {
namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const Args&);
};

constexpr Command kCommands[] = {
    {"convert", "Hugging Face folder or word2vec file -> .bertc", run_convert},
    {"inspect", "show a .bertc file's kind, config and tensors (--verify checksums)", run_inspect},
    {"tokenize", "text -> BERT wordpieces and ids (plain lines or JSON Lines)", run_tokenize},
    {"embed", "texts -> sentence embeddings (npy, jsonl, tsv)", run_embed},
    {"validate", "compare outputs with a reference bundle (tools/make_reference.py)", run_validate},
    {"bench", "whole-model latency and throughput on random ids", run_bench},
    {"similarity", "cosine similarity matrix of texts (BERT poolings, word2vec)", run_similarity},
    {"search", "top-k semantic search of a corpus, modes side by side", run_search},
    {"index", "index build: embed a corpus once into a search index (resumable)", run_index},
    {"serve", "HTTP embedding and search server (OpenAI /v1/embeddings, TEI /embed)", run_serve},
};

void print_help() {
  std::printf(
      "bertc %s - BERT and word2vec sentence embeddings, natively\n\n"
      "Usage: bertc <command> [options]    (bertc <command> --help for its options)\n\n"
      "Commands:\n",
      BERTC_VERSION);
  for (const Command& c : kCommands) std::printf("  %-12s %s\n", c.name, c.summary);
  std::printf(
      "\nModel: commands that need a BERT model take -m MODEL.bertc; without it they use\n"
      "$BERTC_MODEL, else the default installed by tools/setup.sh (all-MiniLM-L6-v2):\n"
      "  %s\n\n"
      "Options:\n"
      "  -h, --help     this help\n"
      "  --version      version, git commit, whether CUDA was built in, the CPU and the kernels\n"
      "                 each op runs on it (BERTC_CPU=portable|avx2|avx512|amx|neon picks them)\n",
      default_model_path().c_str());
}

// Every command's data on stdout is flushed here, so a failed write (a full disk, /dev/full) is
// an error for every command rather than a silent exit 0.
int finish_stdout(int code) {
  errno = 0;
  if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return code;
  int err = errno;
  // An earlier write failed and its errno is gone: one more write (a newline; the output is
  // incomplete anyway) names the reason.
  if (!err) {
    std::clearerr(stdout);
    if (std::fputc('\n', stdout) == EOF || std::fflush(stdout) != 0) err = errno;
  }
  std::fprintf(stderr, "bertc: error: stdout: write failed%s%s\n", err ? ": " : "",
               err ? std::strerror(err) : "");
  return 1;
}

}  // namespace

}  // namespace bertc

int main(int argc, char** argv) {
  using namespace bertc;
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help") ||
      !std::strcmp(argv[1], "help")) {
    print_help();
    return finish_stdout(argc < 2 ? 2 : 0);
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("bertc %s (commit %s, CUDA %s)\n", BERTC_VERSION, BERTC_GIT_COMMIT,
                cuda_built() ? "built in" : "not built");
    return finish_stdout(0);
    try {
      std::printf("%s\n", cpu::describe_cpu_plan().c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bertc: error: %s\n", e.what());
      return dynamic_cast<const UsageError*>(&e) ? 2 : 1;
    }
    return 0;
  }
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    try {
      return finish_stdout(c.run(Args(argv + 2, argv + argc)));
    } catch (const UsageError& e) {
      std::fprintf(stderr, "bertc %s: error: %s\n", c.name, e.what());
      return 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bertc: error: %s\n", e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "bertc: error: unknown command '%s' (see bertc --help)\n", argv[1]);
  return 2;
}
