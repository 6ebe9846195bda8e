// AVX-512 gemm: y[r, c] = dot(x[r, :], w[c, :]) (+ bias[c]) with w read in place.
//
// Why dot products along K: w keeps Hugging Face's [out, in] layout, so each output column's
// weights are one contiguous K-vector; 16 lanes of x[r, i..i+16) * w[c, i..i+16) are FMA'd into
// a per-(r, c) vector accumulator and reduced once at the end. The weights need no packing (the
// mmap view is used as is: no extra memory, no load-time work), and a micro-tile of R rows x C
// columns needs R + C loads per R * C FMAs, so with 4 x 6 it stays FMA-bound out of L1.
//
// Why a row's bits never depend on N or on the threads: every output element is computed by the
// same sequence of operations whatever tile, tile size or thread it falls in: lane l
// accumulates products i = l, l + 16, l + 32, ... in increasing i (the K tail is a zero-masked
// load), kKBlock-sized K blocks park the accumulator in memory between blocks (an exact store
// and load), then one fixed reduction tree (reduce4) and the bias. The loops
// below only change which elements are computed together, never how one is computed.
// GCC 12 flags the _mm256_undefined_pd operand inside _mm512_extractf64x4_pd as
// maybe-uninitialized: a false positive in the compiler's own header (it is never read).
#if defined(__GNUC__) && !defined(__clang__)  // clang has no such warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "kernels/cpu/gemm_paths.h"
#include "kernels/cpu/gemm_tasks.h"

namespace bertc::cpu {
namespace {

constexpr int kRows = 4;              // micro-tile rows (x rows)
constexpr int kCols = 6;              // micro-tile columns (w rows): 24 accumulators + 6 + 1 zmm
constexpr int64_t kLanes = 16;        // floats per zmm register
constexpr int64_t kKBlock = 1024;     // K per pass: 6 w rows of it (24 KB) stay in L1
constexpr int64_t kXBlockFloats = 192 * 1024;  // a row block of x (768 KB) stays in L2
constexpr int64_t kColChunk = 16 * kCols;      // 96 output columns per task: 8 tasks at m = 768

#define BERTC_AVX512 __attribute__((target("avx512f")))

// The 16-lane sums of a, b, c and d, in that order: 3 shuffles and 2.25 adds per accumulator
// instead of the 4 + 4 of _mm512_reduce_add_ps. Each of the four goes through the same tree
// (lanes i and i + 2 of each 128-bit quarter, then the two pairs, then the quarters 0 + 2 and
// 1 + 3, then those two), so an element's bits do not depend on its slot or on its neighbours
// (tail tiles pass zeros).
BERTC_AVX512 inline __m128 reduce4(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
  const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
  const __m512 quarters = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)),
                                        _mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));
  const __m256 halves = _mm256_add_ps(
      _mm512_castps512_ps256(quarters),
      _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(quarters), 1)));
  return _mm_add_ps(_mm256_castps256_ps128(halves), _mm256_extractf128_ps(halves, 1));
}

// One R x C micro-tile over K range [i0, i1). first: start from zero, else from `partial`;
// last: reduce, add bias, write y; else park the accumulators in `partial` ([R][C][16]).
template <int R, int C>
BERTC_AVX512 void micro_tile(const float* x, const float* w, int64_t k, int64_t i0, int64_t i1,
                             bool first, bool last, float* partial, const float* bias, float* y,
                             int64_t m) {
  __m512 acc[R][C];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c)
      acc[r][c] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(partial + (r * C + c) * kLanes);
  int64_t i = i0;
  for (; i + kLanes <= i1; i += kLanes) {
    __m512 wv[C];
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) wv[c] = _mm512_loadu_ps(w + c * k + i);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 xv = _mm512_loadu_ps(x + r * k + i);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
    }
  }
  if (i < i1) {  // K tail (only in the last block): masked-out lanes load 0 and add nothing
    const __mmask16 mask = static_cast<__mmask16>((1u << (i1 - i)) - 1);
    __m512 wv[C];
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) wv[c] = _mm512_maskz_loadu_ps(mask, w + c * k + i);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 xv = _mm512_maskz_loadu_ps(mask, x + r * k + i);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
    }
  }
  if (!last) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) _mm512_storeu_ps(partial + (r * C + c) * kLanes, acc[r][c]);
    return;
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < C; c += 4) {
      const __m512 zero = _mm512_setzero_ps();
      float sums[4];
      _mm_storeu_ps(sums, reduce4(acc[r][c], c + 1 < C ? acc[r][c + 1] : zero,
                                  c + 2 < C ? acc[r][c + 2] : zero, c + 3 < C ? acc[r][c + 3] : zero));
      for (int j = 0; j < 4 && c + j < C; ++j)
        y[r * m + c + j] = bias ? sums[j] + bias[c + j] : sums[j];
    }
}

using MicroTile = void (*)(const float*, const float*, int64_t, int64_t, int64_t, bool, bool,
                           float*, const float*, float*, int64_t);

// kTiles[R - 1][C - 1]: full tiles use <4, 6>; the row and column tails use the smaller ones.
template <int R, std::size_t... Cs>
constexpr std::array<MicroTile, kCols> row_of_tiles(std::index_sequence<Cs...>) {
  return {&micro_tile<R, static_cast<int>(Cs) + 1>...};
}

template <std::size_t... Rs>
constexpr std::array<std::array<MicroTile, kCols>, kRows> all_tiles(std::index_sequence<Rs...>) {
  return {row_of_tiles<static_cast<int>(Rs) + 1>(std::make_index_sequence<kCols>{})...};
}

constexpr auto kTiles = all_tiles(std::make_index_sequence<kRows>{});

// Rows [r0, r1) x columns [c0, c1) of y, on the calling thread.
void block(const float* x, const float* w, const float* bias, float* y, int64_t m, int64_t k,
           int64_t r0, int64_t r1, int64_t c0, int64_t c1, Epilogue epilogue) {
  // Accumulators parked between K blocks: one [kRows][kCols][16] slot per row group of the
  // block. Thread-local so that the forward pass stops allocating once it has grown.
  static thread_local std::vector<float> partial;
  const bool blocked = k > kKBlock;
  if (blocked) {
    const size_t need = static_cast<size_t>((r1 - r0 + kRows - 1) / kRows) * kRows * kCols * kLanes;
    if (partial.size() < need) partial.resize(need);
  }
  for (int64_t c = c0; c < c1; c += kCols) {
    const int cols = static_cast<int>(std::min<int64_t>(kCols, c1 - c));
    for (int64_t i0 = 0; i0 < k; i0 += kKBlock) {
      const int64_t i1 = std::min(k, i0 + kKBlock);
      const bool first = i0 == 0, last = i1 == k;
      // The w rows of the next (column group, K block) are pulled into L2 while this one
      // computes, spread over its row groups: without it each group starts with a stall on
      // memory (w is read once per row block, from DRAM at batch 1).
      const int64_t next_c = last ? c + kCols : c, next_i0 = last ? 0 : i1;
      const int64_t next_cols = std::min<int64_t>(kCols, c1 - next_c);
      const int64_t next_lines = next_cols > 0 ? (std::min(k, next_i0 + kKBlock) - next_i0 + kLanes - 1) / kLanes : 0;
      const int64_t groups = (r1 - r0 + kRows - 1) / kRows;
      for (int64_t r = r0, g = 0; r < r1; r += kRows, ++g) {
        for (int64_t line = next_lines * g / groups; line < next_lines * (g + 1) / groups; ++line)
          for (int64_t cc = 0; cc < next_cols; ++cc)
            _mm_prefetch(reinterpret_cast<const char*>(w + (next_c + cc) * k + next_i0 + line * kLanes),
                         _MM_HINT_T1);
        const int rows = static_cast<int>(std::min<int64_t>(kRows, r1 - r));
        // y's lines are written a few floats at a time; asking for them (for writing) one
        // column group early hides the read-for-ownership of lines that are not cached yet.
        if (last && c + kCols < c1)
          for (int rr = 0; rr < rows; ++rr) __builtin_prefetch(y + (r + rr) * m + c + kCols, 1, 3);
        float* slot = blocked ? partial.data() + (r - r0) / kRows * kRows * kCols * kLanes : nullptr;
        kTiles[rows - 1][cols - 1](x + r * k, w + c * k, k, i0, i1, first, last, slot,
                                   bias ? bias + c : nullptr, y + r * m + c, m);
      }
    }
  }
  // The block of y is final and still in L2 (at most ~256 rows x 96 columns).
  if (epilogue == Epilogue::kBiasGelu) gelu_block(y + r0 * m + c0, m, r1 - r0, c1 - c0);
}

}  // namespace

bool has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

void gemm_avx512(const float* x, const float* w, const float* bias, float* y, int64_t n,
                 int64_t m, int64_t k, Epilogue epilogue) {
  if (gemm_degenerate(bias, y, n, m, k, epilogue)) return;
  const int64_t block_rows =
      std::max<int64_t>(kRows, kXBlockFloats / std::min(k, kKBlock * 4) / kRows * kRows);
  // Small products (tiny models, the pooler at batch 1) are not worth waking the team.
  for_each_block(n, m, block_rows, kColChunk, n * m * k >= (int64_t{1} << 18),
                 [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
                   block(x, w, bias, y, m, k, r0, r1, c0, c1, epilogue);
                 });
}

}  // namespace bertc::cpu
