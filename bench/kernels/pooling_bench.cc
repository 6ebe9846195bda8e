// pooling: ref vs cpu mean pooling of [N, H=768] in sequences of 128; bytes = hidden read once.
// "cpu" runs the process plan (kernels/cpu/cpu_plan.h): BERTC_CPU=portable|avx2|... picks another.
#include "kernels/pooling.h"
#include "kernels/cpu/cpu_plan.h"

#include <benchmark/benchmark.h>

#include <random>
#include <vector>

namespace bertc {
namespace {

void plan_pool(const float* hidden, const int32_t* cu_seqlens, int64_t num_seqs,
               int64_t hidden_size, PoolMode mode, float* out) {
  cpu::process_kernels().pool(hidden, cu_seqlens, num_seqs, hidden_size, mode, out);
}

template <auto Kernel>
void bm_pool_mean(benchmark::State& state) {
  const int64_t n = state.range(0), h = 768, t = 128, seqs = n / t;
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> hidden(n * h), out(seqs * h);
  for (float& e : hidden) e = dist(gen);
  std::vector<int32_t> cu;
  for (int64_t i = 0; i <= seqs; ++i) cu.push_back(static_cast<int32_t>(i * t));
  for (auto _ : state) {
    Kernel(hidden.data(), cu.data(), seqs, h, PoolMode::kMean, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * n * h * int64_t{sizeof(float)});
}

BENCHMARK(bm_pool_mean<ref::pool>)->Name("pool_mean/ref")->Arg(128)->Arg(2048)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_pool_mean<plan_pool>)->Name("pool_mean/cpu")->Arg(128)->Arg(2048)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace bertc
