// Tokenizer throughput (MB/s and wordpieces/s, one thread) on several MB of English prose: the
// prose cases of tests/data/tokenizer/cases.jsonl repeated, or the file named by
// $BERTC_BENCH_TEXT (e.g. the corpus of /work/shared/peers/make_corpus.sh, for a side-by-side
// with hf_tokenizer.sh). Each input is a chunk of lines, like the peer's CHUNK setting.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

namespace bertc {
namespace {

constexpr size_t kTargetBytes = size_t(8) << 20;

std::vector<std::string> read_lines(std::istream& in) {
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// Lines of the benchmark text: $BERTC_BENCH_TEXT as it is, or the reference prose repeated.
const std::vector<std::string>& bench_lines() {
  static const std::vector<std::string> lines = [] {
    if (const char* path = std::getenv("BERTC_BENCH_TEXT"); path && *path) {
      std::ifstream in(path, std::ios::binary);
      return read_lines(in);
    }
    std::ifstream in(std::string(BERTC_TEST_DATA) + "/tokenizer/cases.jsonl");
    std::vector<std::string> prose;
    std::string line;
    while (std::getline(in, line)) {
      const auto row = nlohmann::json::parse(line);
      if (row["category"].get<std::string>().rfind("prose:", 0) != 0) continue;
      std::istringstream text(row["text"].get<std::string>());
      for (auto& l : read_lines(text)) prose.push_back(std::move(l));
    }
    std::vector<std::string> out;
    size_t bytes = 0;
    while (bytes < kTargetBytes) {
      for (const auto& l : prose) {
        out.push_back(l);
        bytes += l.size() + 1;
      }
    }
    return out;
  }();
  return lines;
}

// Inputs of `chunk` lines joined with '\n' (whitespace to BERT: the same wordpieces).
std::vector<std::string> chunks(size_t chunk) {
  std::vector<std::string> out;
  const auto& lines = bench_lines();
  for (size_t i = 0; i < lines.size(); i += chunk) {
    std::string s;
    for (size_t k = i; k < std::min(lines.size(), i + chunk); ++k) s += lines[k] + "\n";
    out.push_back(std::move(s));
  }
  return out;
}

void BM_TokenizerWordpieces(benchmark::State& state) {
  const Tokenizer tok(Vocab::from_file(std::string(BERTC_TEST_DATA) +
                                       "/models/tiny-st/model/vocab.txt"),
                      TokenizerOptions{});
  const std::vector<std::string> inputs = chunks(static_cast<size_t>(state.range(0)));
  size_t bytes = 0;
  for (const auto& s : inputs) bytes += s.size();
  std::vector<int32_t> ids;
  size_t tokens = 0;
  for (auto _ : state) {
    tokens = 0;
    for (const auto& s : inputs) {
      ids.clear();
      tok.wordpieces(s, ids);
      tokens += ids.size();
    }
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["tokens_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * tokens), benchmark::Counter::kIsRate);
  state.counters["MB"] = static_cast<double>(bytes) / 1e6;
}
// 1 line per input (every sentence its own call) and 64 (the peer's default CHUNK).
BENCHMARK(BM_TokenizerWordpieces)->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bertc
