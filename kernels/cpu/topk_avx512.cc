// CPU top-k for AVX-512: the rows of a block scored against one query with FMAs (f16 rows widened
// in registers by VCVTPH2PS), in the shared scan of kernels/cpu/topk_scan.h. Checked against
// ref::topk in tests/kernels/topk_test.cc.

// GCC 12 flags the _mm256_undefined operands inside _mm512_reduce_add_ps as maybe-uninitialized:
// a false positive in the compiler's own header (they are never read).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#include "kernels/cpu/kernels_avx512.h"
#include "kernels/cpu/topk_scan.h"

namespace bertc::cpu::avx512 {
namespace {

// One query against n rows: 4 rows share each load of q, and 4 independent FMA chains keep the
// loads in flight; the D % 16 tail uses masked loads. Memory-bound: the matrix is read once.
// Neither 8 rows per step nor a shuffle-tree reduction of the 4 sums changed L3-resident timings
// by more than 1%.
template <typename T>
__m512 load16(const T* p, __mmask16 mask) {
  if constexpr (std::is_same_v<T, uint16_t>) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, p));
  } else {
    return _mm512_maskz_loadu_ps(mask, p);
  }
}

// Software prefetch, chosen on 3M x 300 (bench/kernels/topk_bench.cc and a scratch harness):
// - f32: the hardware prefetcher streams within a 4 KB page but starts slowly on each new one.
//   Touching the first two lines of the page 16 KB ahead once per 4 rows starts it early: one
//   thread 245 -> 228 ms, two 123 -> 118-120 ms. Prefetching every line was 10% slower, NTA 2x.
//   On transparent huge pages the same prefetch costs 7% (two threads 111 -> 119 ms); bertc's
//   corpora are file mappings (.bertc, index .npy), always on 4 KB pages, so it stays.
// - f16: widening doubles the work per cache line, so the out-of-order window keeps half as many
//   misses in flight. Every line is prefetched 6 KB ahead into L2 (T1), spread over the 16-column
//   steps: one thread 195 -> 142 ms (2 KB into L1: 157 ms), two 107 -> 75 ms.
template <typename T>
constexpr bool kF16 = std::is_same_v<T, uint16_t>;
constexpr uintptr_t kPageBytes = 4096;
constexpr uintptr_t kPagePrefetchAheadBytes = 16384;  // f32
constexpr uintptr_t kLinePrefetchAheadBytes = 6144;   // f16

// Once per 4 rows starting at `r0`.
template <typename T>
void prefetch_rows(const T* r0) {
  if constexpr (!kF16<T>) {
    uintptr_t page = (reinterpret_cast<uintptr_t>(r0) + kPagePrefetchAheadBytes) & ~(kPageBytes - 1);
    _mm_prefetch(reinterpret_cast<const char*>(page), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(page + 64), _MM_HINT_T0);
  }
}

// Once per 16-column step: its share (4 rows x 16 columns) of the span `ahead` points into.
template <typename T>
void prefetch_step(uintptr_t ahead) {
  if constexpr (kF16<T>)
    for (int64_t o = 0; o < 4 * 16 * int64_t{sizeof(T)}; o += 64)
      _mm_prefetch(reinterpret_cast<const char*>(ahead + o), _MM_HINT_T1);
}

template <typename T>
void score_rows_avx512(const T* rows, int64_t n, int64_t dim, const float* q, float* out) {
  const int64_t full = dim / 16 * 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (dim - full)) - 1);
  constexpr int64_t kStepBytes = 4 * 16 * sizeof(T);  // 4 rows x 16 columns
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const T* r0 = rows + i * dim;
    // Steps cover ceil(D / 16) * kStepBytes >= the 4 rows' bytes. Past the matrix end a prefetch
    // is only a hint and does not fault.
    prefetch_rows(r0);
    uintptr_t ahead = reinterpret_cast<uintptr_t>(r0) + kLinePrefetchAheadBytes;
    __m512 a[4];
    for (int r = 0; r < 4; ++r) a[r] = _mm512_setzero_ps();
    if constexpr (kF16<T>) {
      // Four row pointers: GCC then indexes all loads off one counter. For f32 that form made
      // the FMAs take indexed memory operands (two uops each, so fewer loads in flight) and cost
      // 3% (123 vs 120 ms on 3M x 300); for f16 the row-offset form below was 10% slower.
      const T* r1 = r0 + dim;
      const T* r2 = r1 + dim;
      const T* r3 = r2 + dim;
      for (int64_t d = 0; d < full; d += 16, ahead += kStepBytes) {
        prefetch_step<T>(ahead);
        __m512 qv = _mm512_loadu_ps(q + d);
        a[0] = _mm512_fmadd_ps(load16(r0 + d, 0xffff), qv, a[0]);
        a[1] = _mm512_fmadd_ps(load16(r1 + d, 0xffff), qv, a[1]);
        a[2] = _mm512_fmadd_ps(load16(r2 + d, 0xffff), qv, a[2]);
        a[3] = _mm512_fmadd_ps(load16(r3 + d, 0xffff), qv, a[3]);
      }
    } else {
      for (int64_t d = 0; d < full; d += 16) {
        __m512 qv = _mm512_loadu_ps(q + d);
        for (int r = 0; r < 4; ++r) a[r] = _mm512_fmadd_ps(load16(r0 + r * dim + d, 0xffff), qv, a[r]);
      }
    }
    if (tail) {
      prefetch_step<T>(ahead);
      __m512 qv = _mm512_maskz_loadu_ps(tail, q + full);
      for (int r = 0; r < 4; ++r) a[r] = _mm512_fmadd_ps(load16(r0 + r * dim + full, tail), qv, a[r]);
    }
    for (int r = 0; r < 4; ++r) out[i + r] = _mm512_reduce_add_ps(a[r]);
  }
  for (; i < n; ++i) {
    const T* r = rows + i * dim;
    __m512 a = _mm512_setzero_ps();
    for (int64_t d = 0; d < full; d += 16) a = _mm512_fmadd_ps(load16(r + d, 0xffff), _mm512_loadu_ps(q + d), a);
    if (tail) a = _mm512_fmadd_ps(load16(r + full, tail), _mm512_maskz_loadu_ps(tail, q + full), a);
    out[i] = _mm512_reduce_add_ps(a);
  }
}

}  // namespace

void topk(const float* matrix, int64_t rows, int64_t dim, const float* queries, int64_t num_queries,
          int64_t k, int64_t* out_index, float* out_score, int threads) {
  topk_scan<float>(matrix, rows, dim, queries, num_queries, k, out_index, out_score, threads,
                   &score_rows_avx512<float>);
}

void topk_f16(const uint16_t* matrix, int64_t rows, int64_t dim, const float* queries,
              int64_t num_queries, int64_t k, int64_t* out_index, float* out_score, int threads) {
  topk_scan<uint16_t>(matrix, rows, dim, queries, num_queries, k, out_index, out_score, threads,
                      &score_rows_avx512<uint16_t>);
}

}  // namespace bertc::cpu::avx512
