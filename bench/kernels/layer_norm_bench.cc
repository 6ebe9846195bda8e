// layer_norm: ref vs cpu for the fused bias + residual + LayerNorm on [N, H=768], y = residual
// as in BertModel; bytes = read x and residual, write y.
// "cpu" runs the process plan (kernels/cpu/cpu_plan.h): BERTC_CPU=portable|avx2|... picks another.
#include "kernels/layer_norm.h"
#include "kernels/cpu/cpu_plan.h"

#include <benchmark/benchmark.h>

#include <random>
#include <vector>

namespace bertc {
namespace {

void plan_bias_residual_layer_norm(const float* x, const float* bias, const float* residual,
                                   const float* gamma, const float* beta, float eps, float* y,
                                   int64_t rows, int64_t cols) {
  cpu::process_kernels().bias_residual_layer_norm(x, bias, residual, gamma, beta, eps, y, rows,
                                                  cols);
}

template <auto Kernel>
void bm_bias_residual_layer_norm(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1);
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> x(rows * cols), residual(rows * cols), bias(cols), gamma(cols), beta(cols);
  for (auto* v : {&x, &residual, &bias, &gamma, &beta})
    for (float& e : *v) e = dist(gen);
  for (auto _ : state) {
    // In place over the residual: values stay normalized, so repeated runs see the same range.
    Kernel(x.data(), bias.data(), residual.data(), gamma.data(), beta.data(), 1e-12f,
           residual.data(), rows, cols);
    benchmark::DoNotOptimize(residual.data());
  }
  state.SetBytesProcessed(state.iterations() * rows * cols * 3 * int64_t{sizeof(float)});
}

BENCHMARK(bm_bias_residual_layer_norm<ref::bias_residual_layer_norm>)->Name("bias_residual_layer_norm/ref")->Args({128, 768})->Args({2048, 768})->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_bias_residual_layer_norm<plan_bias_residual_layer_norm>)->Name("bias_residual_layer_norm/cpu")->Args({128, 768})->Args({2048, 768})->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace bertc
