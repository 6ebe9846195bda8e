// embedding: ref vs cpu, N tokens of H=768 from a 30522-word table (BERT's vocab);
// bytes = three gathered rows read + one written per token.
// "cpu" runs the process plan (kernels/cpu/cpu_plan.h): BERTC_CPU=portable|avx2|... picks another.
#include "kernels/embedding.h"
#include "kernels/cpu/cpu_plan.h"

#include <benchmark/benchmark.h>

#include <random>
#include <vector>

namespace bertc {
namespace {

void plan_embedding(const int32_t* ids, const int32_t* type_ids, const int32_t* position_ids,
                    int64_t n, const float* word, const float* position, const float* token_type,
                    const float* gamma, const float* beta, float eps, int64_t hidden, float* out) {
  cpu::process_kernels().embedding(ids, type_ids, position_ids, n, word, position, token_type,
                                   gamma, beta, eps, hidden, out);
}

template <auto Kernel>
void bm_embedding(benchmark::State& state) {
  const int64_t n = state.range(0), h = 768, vocab = 30522, positions = 512;
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> word(vocab * h), position(positions * h), type(2 * h), gamma(h), beta(h), out(n * h);
  for (auto* v : {&word, &position, &type, &gamma, &beta})
    for (float& e : *v) e = dist(gen);
  std::vector<int32_t> ids(n), types(n, 0), pos(n);
  for (int64_t i = 0; i < n; ++i) {
    ids[i] = static_cast<int32_t>(gen() % vocab);
    pos[i] = static_cast<int32_t>(i % 128);  // sequences of 128 tokens
  }
  for (auto _ : state) {
    Kernel(ids.data(), types.data(), pos.data(), n, word.data(), position.data(), type.data(),
           gamma.data(), beta.data(), 1e-12f, h, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * n * h * 4 * int64_t{sizeof(float)});
}

BENCHMARK(bm_embedding<ref::embedding>)->Name("embedding/ref")->Arg(128)->Arg(2048)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_embedding<plan_embedding>)->Name("embedding/cpu")->Arg(128)->Arg(2048)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace bertc
