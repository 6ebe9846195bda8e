// attention: ref vs cpu, BERT-base heads (NH=12, D=64), N tokens packed as sequences of T;
// reports GFLOP/s of the two products (4 T^2 D per head and sequence).
// "cpu" runs the process plan (kernels/cpu/cpu_plan.h): BERTC_CPU=portable|avx2|... picks another.
#include "kernels/attention.h"
#include "kernels/cpu/cpu_plan.h"

#include <omp.h>

#include <benchmark/benchmark.h>

#include <random>
#include <vector>

namespace bertc {
namespace {

void plan_attention(const float* q, const float* k, const float* v, float* out,
                    const int32_t* cu_seqlens, int64_t num_seqs, int64_t num_heads,
                    int64_t head_dim, float* scratch) {
  cpu::process_kernels().attention(q, k, v, out, cu_seqlens, num_seqs, num_heads, head_dim,
                                   scratch);
}

template <auto Kernel>
void bm_attention(benchmark::State& state) {
  const int64_t n = state.range(0), t = state.range(1), heads = 12, d = 64, h = heads * d;
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> q(n * h), k(n * h), v(n * h), out(n * h);
  for (auto* x : {&q, &k, &v})
    for (float& e : *x) e = dist(gen);
  std::vector<int32_t> cu;
  for (int64_t i = 0; i <= n / t; ++i) cu.push_back(static_cast<int32_t>(i * t));
  std::vector<float> scratch(cpu::process_kernels().attention_scratch_floats(t, omp_get_max_threads()));
  const int64_t seqs = n / t;
  for (auto _ : state) {
    Kernel(q.data(), k.data(), v.data(), out.data(), cu.data(), seqs, heads, d, scratch.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(4.0 * seqs * heads * t * t * d * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
}

BENCHMARK(bm_attention<ref::attention>)->Name("attention/ref")->Args({128, 128})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(bm_attention<plan_attention>)->Name("attention/cpu")->Args({128, 128})->Args({2048, 128})->Args({2048, 512})->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bertc
