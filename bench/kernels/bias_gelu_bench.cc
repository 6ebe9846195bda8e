// bias_gelu: ref vs cpu on the FFN activation [N, I=3072]; bytes = one read + one write of x.
// "cpu" runs the process plan (kernels/cpu/cpu_plan.h): BERTC_CPU=portable|avx2|... picks another.
#include "kernels/bias_gelu.h"
#include "kernels/cpu/cpu_plan.h"

#include <benchmark/benchmark.h>

#include <random>
#include <vector>

namespace bertc {
namespace {

void plan_bias_gelu(float* x, const float* bias, int64_t rows, int64_t cols) {
  cpu::process_kernels().bias_gelu(x, bias, rows, cols);
}

template <auto Kernel>
void bm_bias_gelu(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1);
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  std::vector<float> x(rows * cols), bias(cols), work(rows * cols);
  for (float& v : x) v = dist(gen);
  for (float& v : bias) v = dist(gen);
  for (auto _ : state) {
    state.PauseTiming();
    work = x;  // GELU is not idempotent: start each run from the same input
    state.ResumeTiming();
    Kernel(work.data(), bias.data(), rows, cols);
    benchmark::DoNotOptimize(work.data());
  }
  state.SetBytesProcessed(state.iterations() * rows * cols * 2 * int64_t{sizeof(float)});
}

BENCHMARK(bm_bias_gelu<ref::bias_gelu>)->Name("bias_gelu/ref")->Args({128, 3072})->Args({2048, 3072})->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_bias_gelu<plan_bias_gelu>)->Name("bias_gelu/cpu")->Args({128, 3072})->Args({2048, 3072})->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace bertc
