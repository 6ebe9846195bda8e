// word2vec: convert and open times for a synthetic file in the GoogleNews layout (3,000,000 x 300
// float32 by default, 3.6 GB in /tmp; BERTC_BENCH_W2V_ROWS=N for a smaller quick run), word
// lookup and sentence averaging. Peer: gensim 4.2 load_word2vec_format takes 17.4 s and 4.1 GB RSS
// on the full file (/work/shared/peers/gensim_w2v.sh).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "app/word_vectors.h"
#include "weights/model_file.h"
#include "weights/word2vec.h"

namespace bertc {
namespace {

constexpr int64_t kDim = 300;

int64_t bench_rows() {
  const char* env = std::getenv("BERTC_BENCH_W2V_ROWS");
  return env && *env ? std::atoll(env) : 3000000;
}

// Word i: 3-15 pseudo-random lower-case letters, then i in upper-case hex (unique), as in
// /work/shared/peers/make_w2v.py.
std::string word_of(int64_t i) {
  uint64_t s = static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ull + 1;
  s ^= s >> 29;
  std::string w(3 + s % 13, 'a');
  for (char& c : w) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    c = static_cast<char>('a' + (s >> 33) % 26);
  }
  char hex[20];
  std::snprintf(hex, sizeof hex, "%llX", static_cast<unsigned long long>(i));
  return w + hex;
}

// Writes the binary file once per size (header, then "word " + 300 LE floats + "\n").
std::string source_path() {
  const int64_t rows = bench_rows();
  std::string path = "/tmp/bertc_bench_w2v_" + std::to_string(rows) + ".bin";
  if (std::filesystem::exists(path)) return path;
  std::string tmp = path + ".partial";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  std::fprintf(f, "%lld %lld\n", static_cast<long long>(rows), static_cast<long long>(kDim));
  std::vector<float> v(kDim);
  uint64_t s = 42;
  for (int64_t i = 0; i < rows; ++i) {
    std::string w = word_of(i) + " ";
    std::fwrite(w.data(), 1, w.size(), f);
    for (float& x : v) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      x = static_cast<float>(static_cast<int64_t>(s >> 40) - (int64_t{1} << 23)) * 0x1p-26f;
    }
    std::fwrite(v.data(), sizeof(float), kDim, f);
    std::fputc('\n', f);
  }
  std::fclose(f);
  std::filesystem::rename(tmp, path);
  return path;
}

std::string converted_path() {
  return "/tmp/bertc_bench_w2v_" + std::to_string(bench_rows()) + ".bertc";
}

void BM_w2v_convert(benchmark::State& state) {
  const std::string src = source_path();
  Word2VecConvertOptions opt;
  opt.quiet = true;
  for (auto _ : state) convert_word2vec(src, converted_path(), opt);
  state.counters["words_per_s"] =
      benchmark::Counter(static_cast<double>(bench_rows()), benchmark::Counter::kIsIterationInvariantRate);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(std::filesystem::file_size(src)));
}

void ensure_converted() {
  if (std::filesystem::exists(converted_path())) return;
  Word2VecConvertOptions opt;
  opt.quiet = true;
  convert_word2vec(source_path(), converted_path(), opt);
}

// Open (mmap + validation) and answer one lookup: the "ready to use" latency.
void BM_w2v_open_and_lookup(benchmark::State& state) {
  ensure_converted();
  const std::string word = word_of(bench_rows() / 2);
  for (auto _ : state) {
    WordVectors w2v = WordVectors::open(converted_path());
    std::vector<float> v(w2v.dim());
    w2v.vector(w2v.find(word), v.data());
    benchmark::DoNotOptimize(v.data());
  }
}

void BM_w2v_lookup(benchmark::State& state) {
  ensure_converted();
  WordVectors w2v = WordVectors::open(converted_path());
  std::vector<std::string> words;
  for (int64_t i = 0; i < 4096; ++i) words.push_back(word_of((i * 7919) % bench_rows()));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(w2v.find(words[i++ & 4095]));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_w2v_sentence_vector(benchmark::State& state) {
  ensure_converted();
  WordVectors w2v = WordVectors::open(converted_path());
  std::string text;
  for (int64_t i = 0; i < 12; ++i) text += word_of(i * 1001) + (i % 3 ? " " : ", unknownword ");
  std::vector<float> out(w2v.dim());
  for (auto _ : state) {
    SentenceStats s = sentence_vector(w2v, text, out.data());
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_w2v_convert)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_w2v_open_and_lookup)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_w2v_lookup);
BENCHMARK(BM_w2v_sentence_vector)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace bertc
