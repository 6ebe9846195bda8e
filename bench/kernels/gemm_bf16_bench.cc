// gemm_bf16: every ISA's gemm_bf16 (gemm_bf16/<isa>, kernels/cpu/cpu_plan.h; the label names the
// kernel, e.g. avx512bf16) at BERT-base shapes (N tokens x [out, in]), GFLOP/s = 2 N M K / s, and
// gemm_bf16/avx512_widened, the AVX-512 path of CPUs without a fast VDPBF16PS. Compare with
// gemm/<isa> (fp32). gemm_bf16/peak/* measure one core's multiply-add rate of the two instructions
// behind them (x86-64).
#include "kernels/gemm_bf16.h"

#include <benchmark/benchmark.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/cpu_plan.h"
#if defined(__x86_64__)
#include "kernels/cpu/kernels_avx512.h"
#endif

namespace bertc {
namespace {

std::vector<float> random_vec(int64_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(gen);
  return v;
}

using GemmBf16Fn = void (*)(const float*, const uint16_t*, const float*, float*, int64_t, int64_t,
                           int64_t, Epilogue);

// The ISA's gemm_bf16 (fn null) or fn, which needs the ISA.
void bm_gemm_bf16(benchmark::State& state, cpu::Isa isa, GemmBf16Fn fn) {
  if (const std::string why = cpu::isa_unavailable_reason(isa); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  const cpu::CpuKernels& kernels = cpu::cpu_kernels(isa);
  const int64_t n = state.range(0), m = state.range(1), k = state.range(2);
  const auto x = random_vec(n * k, 1), w = random_vec(m * k, 2), bias = random_vec(m, 3);
  std::vector<uint16_t> packed(static_cast<size_t>(kernels.gemm_bf16_packed_elems(m, k)));
  kernels.gemm_bf16_pack(w.data(), m, k, packed.data());
  std::vector<float> y(static_cast<size_t>(n * m));
  const GemmBf16Fn gemm = fn ? fn : kernels.gemm_bf16.fn;
  for (auto _ : state) {
    gemm(x.data(), packed.data(), bias.data(), y.data(), n, m, k, Epilogue::kBias);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * m * k * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
  if (!fn) state.SetLabel(kernels.gemm_bf16.impl);
}

#if defined(__x86_64__)
// One core's peak multiply-add rate through VDPBF16PS (bf16 pairs) or VFMADD231PS (fp32): 24
// independent accumulators, no memory. Their ratio says whether gemm_bf16/avx512bf16 can beat
// gemm/avx512 on this CPU (Sapphire Rapids: 0.5, so it cannot; 2 is the instruction's promise).
template <bool kBf16>
__attribute__((target("avx512f,avx512bf16"))) void bm_peak(benchmark::State& state) {
  if (!cpu::cpu_features().avx512bf16) {
    state.SkipWithError("this CPU has no AVX512-BF16");
    return;
  }
  constexpr int kAcc = 24;
  constexpr int64_t kSteps = 1 << 16;
  __m512 acc[kAcc];
  for (int i = 0; i < kAcc; ++i) acc[i] = _mm512_setzero_ps();
  __m512 a = _mm512_set1_ps(1e-3f), b = _mm512_set1_ps(1e-3f);
  for (auto _ : state) {
    for (int64_t step = 0; step < kSteps; ++step) {
#pragma GCC unroll 24
      for (int i = 0; i < kAcc; ++i)
        acc[i] = kBf16 ? _mm512_dpbf16_ps(acc[i], reinterpret_cast<__m512bh>(a),
                                          reinterpret_cast<__m512bh>(b))
                       : _mm512_fmadd_ps(a, b, acc[i]);
      __asm__ volatile("" : "+v"(a), "+v"(b));  // keeps the loop from being folded
    }
  }
  for (int i = 0; i < kAcc; ++i) benchmark::DoNotOptimize(acc[i]);
  const double flops_per_instruction = kBf16 ? 64 : 32;
  state.counters["GFLOP/s"] = benchmark::Counter(
      flops_per_instruction * kAcc * kSteps * state.iterations() / 1e9,
      benchmark::Counter::kIsRate);
}

#endif

// N x M x K: attention projections (768 x 768), FFN in (3072 x 768), FFN out (768 x 3072).
void bert_shapes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {8, 128, 2048})
    for (auto [m, k] : {std::pair<int64_t, int64_t>{768, 768}, {3072, 768}, {768, 3072}})
      b->Args({n, m, k});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

const bool kRegistered = [] {
  for (cpu::Isa isa : cpu::kAllIsas)
    benchmark::RegisterBenchmark(("gemm_bf16/" + std::string(cpu::isa_name(isa))).c_str(),
                                 bm_gemm_bf16, isa, nullptr)
        ->Apply(bert_shapes);
#if defined(__x86_64__)
  benchmark::RegisterBenchmark("gemm_bf16/avx512_widened", bm_gemm_bf16, cpu::Isa::kAvx512,
                               &cpu::avx512::gemm_bf16_widened)
      ->Apply(bert_shapes);
#endif
  return true;
}();

#if defined(__x86_64__)
BENCHMARK(bm_peak<true>)->Name("gemm_bf16/peak/vdpbf16ps");
BENCHMARK(bm_peak<false>)->Name("gemm_bf16/peak/vfmadd231ps");
#endif

}  // namespace
}  // namespace bertc
