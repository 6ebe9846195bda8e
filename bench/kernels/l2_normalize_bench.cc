// l2_normalize: ref vs cpu on [B, H=768] embeddings; bytes = read + write.
// "cpu" runs the process plan (kernels/cpu/cpu_plan.h): BERTC_CPU=portable|avx2|... picks another.
#include "kernels/l2_normalize.h"
#include "kernels/cpu/cpu_plan.h"

#include <benchmark/benchmark.h>

#include <random>
#include <vector>

namespace bertc {
namespace {

void plan_l2_normalize(float* x, int64_t rows, int64_t cols) {
  cpu::process_kernels().l2_normalize(x, rows, cols);
}

template <auto Kernel>
void bm_l2_normalize(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = 768;
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> x(rows * cols);
  for (float& e : x) e = dist(gen);
  for (auto _ : state) {
    Kernel(x.data(), rows, cols);  // idempotent up to rounding: safe to repeat in place
    benchmark::DoNotOptimize(x.data());
  }
  state.SetBytesProcessed(state.iterations() * rows * cols * 2 * int64_t{sizeof(float)});
}

BENCHMARK(bm_l2_normalize<ref::l2_normalize>)->Name("l2_normalize/ref")->Arg(128)->Arg(2048)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_l2_normalize<plan_l2_normalize>)->Name("l2_normalize/cpu")->Arg(128)->Arg(2048)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace bertc
