// Ten independent FMA chains per thread hide the FMA latency (4 cycles, 2 ports: 8 in flight
// saturate both), so the loop runs at the core's FMA throughput; the operands stay in registers.
// x86-64 only so far (elsewhere the peak is reported as unknown); each loop carries its ISA as a
// target attribute and runs only where kernels/cpu/cpu_features.h found that ISA.
#include "tools/fma_peak.h"

#include <omp.h>

#include <algorithm>
#include <chrono>

#include "kernels/cpu/cpu_features.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace bertc {
namespace {

#if defined(__x86_64__)

constexpr int kChains = 10;
constexpr long kIters = 20'000'000;  // ~0.1 s per thread at ~3 GHz

// The same loop for each ISA: a target attribute cannot be templated over.
#define BERTC_FMA_CHAINS(NAME, TARGET, VEC, SET1, FMA, FIRST)           \
  __attribute__((target(TARGET))) float NAME() {                       \
    VEC acc[kChains];                                                  \
    for (int c = 0; c < kChains; ++c) acc[c] = SET1(static_cast<float>(c)); \
    const VEC a = SET1(0.999999f), b = SET1(1e-7f);                    \
    for (long i = 0; i < kIters; ++i)                                  \
      for (int c = 0; c < kChains; ++c) acc[c] = FMA(acc[c], a, b);    \
    float sum = 0; /* returned so that the chains are not optimised away */ \
    for (int c = 0; c < kChains; ++c) sum += FIRST(acc[c]);            \
    return sum;                                                        \
  }
BERTC_FMA_CHAINS(chains_avx512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_cvtss_f32)
BERTC_FMA_CHAINS(chains_avx2, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_cvtss_f32)
#undef BERTC_FMA_CHAINS
#else
float chains_avx512() { return 0; }
float chains_avx2() { return 0; }
#endif

}  // namespace

double measure_fma_peak_gflops(int threads) {
  int lanes = 0;
#if defined(__x86_64__)
  const cpu::CpuFeatures& f = cpu::cpu_features();
  if (f.avx512f) {
    lanes = 16;
  } else if (f.avx2 && f.fma) {
    lanes = 8;
  }
#endif
  if (lanes == 0) return 0;
  // The best of several runs: a peak is what the cores can do, and on a shared machine a single
  // 0.1 s run now and then lost a fifth of it to other work (379 against 462 GFLOP/s).
  constexpr int kRuns = 5;
  double best = 0;
  volatile float sink = 0;
  for (int run = 0; run < kRuns; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads)
    {
      const float s = lanes == 16 ? chains_avx512() : chains_avx2();
#pragma omp critical
      sink = sink + s;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * lanes * kChains * static_cast<double>(kIters) * threads / seconds / 1e9);
  }
  return best;
}

}  // namespace bertc
