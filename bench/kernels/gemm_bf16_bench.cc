// gemm_bf16: cpu::gemm_bf16 at BERT-base shapes (N tokens x [out, in]), GFLOP/s = 2 N M K / s;
// gemm_bf16/avx512bf16 and gemm_bf16/portable run those paths on their own (the first is what a
// Zen 4 runs, the second a CPU without bf16 instructions). Compare with gemm/avx512 (fp32).
// gemm_bf16/peak/* measure one core's multiply-add rate of the two instructions behind them.
#include "kernels/gemm_bf16.h"

#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <random>
#include <utility>
#include <vector>

#include "kernels/cpu/gemm_bf16_paths.h"

namespace bertc {
namespace {

std::vector<float> random_vec(int64_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(gen);
  return v;
}

void bm_gemm_bf16(benchmark::State& state) {
  const int64_t n = state.range(0), m = state.range(1), k = state.range(2);
  const auto x = random_vec(n * k, 1), w = random_vec(m * k, 2), bias = random_vec(m, 3);
  std::vector<uint16_t> packed(static_cast<size_t>(gemm_bf16_packed_elems(m, k)));
  gemm_bf16_pack(w.data(), m, k, packed.data());
  std::vector<float> y(static_cast<size_t>(n * m));
  for (auto _ : state) {
    cpu::gemm_bf16(x.data(), packed.data(), bias.data(), y.data(), n, m, k);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * m * k * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
  state.SetLabel(cpu::gemm_bf16_path_name());
}

// One path on its own, on x already rounded (as cpu::gemm_bf16 passes it).
template <auto Path>
void bm_gemm_bf16_path(benchmark::State& state) {
  if (Path == &cpu::gemm_bf16_avx512 && !cpu::has_avx512_bf16()) {
    state.SkipWithError("this CPU has no AVX512-BF16");
    return;
  }
  const int64_t n = state.range(0), m = state.range(1), k = state.range(2);
  const auto x = random_vec(n * k, 1), w = random_vec(m * k, 2), bias = random_vec(m, 3);
  std::vector<uint16_t> packed(static_cast<size_t>(gemm_bf16_packed_elems(m, k)));
  gemm_bf16_pack(w.data(), m, k, packed.data());
  std::vector<uint16_t> xb(static_cast<size_t>((n + 31) / 32 * 32 * ((k + 31) / 32 * 32)));
  cpu::gemm_bf16_round_x(x.data(), n, k, xb.data());
  std::vector<float> y(static_cast<size_t>(n * m));
  for (auto _ : state) {
    Path(xb.data(), packed.data(), bias.data(), y.data(), n, m, k, Epilogue::kBias);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * m * k * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
}

// One core's peak multiply-add rate through VDPBF16PS (bf16 pairs) or VFMADD231PS (fp32): 24
// independent accumulators, no memory. Their ratio says whether gemm_bf16/avx512bf16 can beat
// gemm/avx512 on this CPU (Sapphire Rapids: 0.5, so it cannot; 2 is the instruction's promise).
template <bool kBf16>
__attribute__((target("avx512f,avx512bf16"))) void bm_peak(benchmark::State& state) {
  if (!cpu::has_avx512_bf16()) {
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

// N x M x K: attention projections (768 x 768), FFN in (3072 x 768), FFN out (768 x 3072).
void bert_shapes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {8, 128, 2048})
    for (auto [m, k] : {std::pair<int64_t, int64_t>{768, 768}, {3072, 768}, {768, 3072}})
      b->Args({n, m, k});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK(bm_gemm_bf16)->Name("gemm_bf16/cpu")->Apply(bert_shapes);
BENCHMARK(bm_gemm_bf16_path<cpu::gemm_bf16_avx512>)
    ->Name("gemm_bf16/avx512bf16")
    ->Apply(bert_shapes);
BENCHMARK(bm_gemm_bf16_path<cpu::gemm_bf16_portable>)
    ->Name("gemm_bf16/portable")
    ->Apply(bert_shapes);
BENCHMARK(bm_peak<true>)->Name("gemm_bf16/peak/vdpbf16ps");
BENCHMARK(bm_peak<false>)->Name("gemm_bf16/peak/vfmadd231ps");

}  // namespace
}  // namespace bertc
