// tanh: ref vs cpu on the pooler output [B, H=768]; bytes = read + write.
// "cpu" runs the process plan (kernels/cpu/cpu_plan.h): BERTC_CPU=portable|avx2|... picks another.
#include "kernels/tanh.h"
#include "kernels/cpu/cpu_plan.h"

#include <benchmark/benchmark.h>

#include <random>
#include <vector>

namespace bertc {
namespace {

void plan_tanh(float* x, int64_t n) { cpu::process_kernels().tanh(x, n); }

template <auto Kernel>
void bm_tanh(benchmark::State& state) {
  const int64_t n = state.range(0) * 768;
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  std::vector<float> x(n), work(n);
  for (float& e : x) e = dist(gen);
  for (auto _ : state) {
    state.PauseTiming();
    work = x;
    state.ResumeTiming();
    Kernel(work.data(), n);
    benchmark::DoNotOptimize(work.data());
  }
  state.SetBytesProcessed(state.iterations() * n * 2 * int64_t{sizeof(float)});
}

BENCHMARK(bm_tanh<ref::tanh>)->Name("tanh/ref")->Arg(128)->Arg(2048)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_tanh<plan_tanh>)->Name("tanh/cpu")->Arg(128)->Arg(2048)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace bertc
