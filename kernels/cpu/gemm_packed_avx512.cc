// Packed fp32 gemm for AVX-512 (kernels/gemm.h): y[r, c] = sum_i x[r, i] w[c, i] (+ bias[c]), w
// in panels of 32 columns x k (k-major). A micro-tile is up to 12 rows x one panel: 24 zmm
// accumulators, two loads of the panel's row i and 12 broadcasts of x[r, i] per 24 FMAs, so it
// runs at the FMA rate out of L1/L2 with no horizontal sums. Measured single-threaded at BERT
// shapes (8 to 2048 rows): 100-215 GFLOP/s, the FMA peak being ~245.
//
// Why a row's bits never depend on n or the threads: every output element is one FMA chain over
// i = 0, 1, ..., k - 1 from zero, then + bias, whatever tile size, task or thread computes it.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <utility>

#include "kernels/cpu/gemm_tasks.h"
#include "kernels/cpu/kernels_avx512.h"
#include "kernels/cpu/vec_avx512.h"

namespace bertc::cpu::avx512 {
namespace {

constexpr int kRows = 12;                      // 24 accumulators + 2 panel rows + 1 broadcast
constexpr int64_t kPanel = 32;                 // output columns per panel (two zmm)
constexpr int64_t kXBlockBytes = 1536 * 1024;  // a task's x rows stay in L2 (2 MB) beside a panel
constexpr int64_t kColChunk = 4 * kPanel;      // 128 columns per task: 6 tasks at m = 768
constexpr int64_t kSlice = 768;                // k per pass over a panel (see slice_len)
constexpr int64_t kL2Budget = 1792 * 1024;     // of the 2 MB L2, for x and two panel slices

// R rows of x (row stride k) x one panel -> y (row stride m), `cols` (<= 32) columns valid.
// kAhead: the first row tile of a panel reads it from memory; loading the panel's rows this many
// floats ahead (2 KB: 16 k steps; 1x8 measured 13.0 ms against 13.9 at 4 KB, 14.7 at 8 KB and
// 17.1 at 1 KB) keeps enough lines in flight, across page boundaries too.
constexpr int64_t kAhead = 512;
// ... and pulling it into L2 from 4 KB ahead as well keeps more of it in flight: 1x8 13.0 ->
// 12.0 ms, 1x32 23.2 -> 22.3 (at 3 KB 12.7, at 5 KB 12.05, at 6 KB 12.4, at 8 KB 13.6).
constexpr int64_t kAheadL2 = 1024;

// How a micro-tile prefetches: kFirst streams its own panel in (the panel's first row tile);
// kNext pulls one line of the next panel slice into L2 per kNextEvery k steps, so that the
// slice's first tile finds it there instead of waiting on memory.
enum Prefetch { kNone, kFirst, kNext };
constexpr int64_t kNextEvery = 4;

// One k slice [k0, k0 + kk) of R rows: `x` and `panel` point at the slice's start. The
// accumulators start at zero on the first slice and resume from y's partial sums on the others
// (an fp32 store and load: the FMA chain is the same as in one pass); only the last slice adds
// the bias and, with gelu, applies the FFN epilogue (gelu16, as bias_gelu computes it).
template <int R, int kMode>
void micro_tile(const float* x, int64_t k, int64_t kk, const float* panel,
                const float* bias, float* y, int64_t m, int64_t cols, bool resume,
                bool last, bool gelu, const float* next) {
  const __mmask16 m0 = static_cast<__mmask16>(cols >= 16 ? 0xffff : (1u << cols) - 1);
  const __mmask16 m1 = static_cast<__mmask16>(cols >= 32 ? 0xffff : cols <= 16 ? 0 : (1u << (cols - 16)) - 1);
  __m512 lo[R], hi[R];
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
    lo[r] = resume ? _mm512_maskz_loadu_ps(m0, y + r * m) : _mm512_setzero_ps();
    hi[r] = resume ? _mm512_maskz_loadu_ps(m1, y + r * m + 16) : _mm512_setzero_ps();
  }
#pragma GCC unroll 4
  for (int64_t i = 0; i < kk; ++i) {
    if constexpr (kMode == kFirst) {
      _mm_prefetch(reinterpret_cast<const char*>(panel + i * kPanel + kAhead), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(panel + i * kPanel + kAhead + 16), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(panel + i * kPanel + kAheadL2), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(panel + i * kPanel + kAheadL2 + 16), _MM_HINT_T1);
    }
    if constexpr (kMode == kNext) {
      if (i % kNextEvery == 0) _mm_prefetch(reinterpret_cast<const char*>(next + i / kNextEvery * 16), _MM_HINT_T1);
    }
    const __m512 w0 = _mm512_loadu_ps(panel + i * kPanel);
    const __m512 w1 = _mm512_loadu_ps(panel + i * kPanel + 16);
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const __m512 xv = _mm512_set1_ps(x[r * k + i]);
      lo[r] = _mm512_fmadd_ps(xv, w0, lo[r]);
      hi[r] = _mm512_fmadd_ps(xv, w1, hi[r]);
    }
  }
  const __m512 b0 = last && bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
  const __m512 b1 = last && bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
    __m512 v0 = lo[r], v1 = hi[r];
    if (last) {
      v0 = _mm512_add_ps(v0, b0);
      v1 = _mm512_add_ps(v1, b1);
    }
    if (last && gelu) {
      v0 = gelu16(v0);
      v1 = gelu16(v1);
    }
    _mm512_mask_storeu_ps(y + r * m, m0, v0);
    _mm512_mask_storeu_ps(y + r * m + 16, m1, v1);
  }
}

using MicroTile = void (*)(const float*, int64_t, int64_t, const float*, const float*, float*,
                           int64_t, int64_t, bool, bool, bool, const float*);

template <int kMode, std::size_t... Rs>
constexpr std::array<MicroTile, kRows> all_tiles(std::index_sequence<Rs...>) {
  return {&micro_tile<static_cast<int>(Rs) + 1, kMode>...};
}

// kTiles[mode][R - 1]: full tiles use kRows rows, a block's last rows fewer.
constexpr std::array<std::array<MicroTile, kRows>, 3> kTiles = {
    all_tiles<kNone>(std::make_index_sequence<kRows>{}),
    all_tiles<kFirst>(std::make_index_sequence<kRows>{}),
    all_tiles<kNext>(std::make_index_sequence<kRows>{})};

// Rows per x block for k slices of ks: a multiple of kRows whose x slice fits kXBlockBytes.
int64_t block_rows_for(int64_t ks) {
  return std::max<int64_t>(kRows, kXBlockBytes / (ks * 4) / kRows * kRows);
}

// The k slice length for n rows: all of k when the rows fit one x block whole or do not fit one
// even sliced; otherwise equal parts of at most kSlice, so that all n rows make one block and
// each panel is streamed once (n = 128 at the FFN's k = 3072). Slicing more (large n) loses: the
// partial sums of a block's y then no longer stay in L2 beside x.
int64_t slice_len(int64_t n, int64_t k) {
  const int64_t slices = (k + kSlice - 1) / kSlice;
  const int64_t sliced = (k + slices - 1) / slices;
  return n <= block_rows_for(k) || n > block_rows_for(sliced) ? k : sliced;
}

// Rows [r0, r1) x columns [c0, c1) of y (c0, c1 multiples of 32 in the padded m), on the calling
// thread: slice by slice and panel by panel, each panel slice reused from L2 by every row tile of
// the block while the tiles after the first pull the next slice in.
void block(const float* x, const float* packed, const float* bias, float* y, int64_t m, int64_t k,
           int64_t ks, int64_t r0, int64_t r1, int64_t c0, int64_t c1, Epilogue epilogue) {
  c1 = std::min(c1, m);
  // Pulling the next slice in pays only while it fits in L2 beside x and the current slice.
  const bool pull = (r1 - r0 + 2 * kPanel) * ks * 4 <= kL2Budget;
  for (int64_t k0 = 0; k0 < k; k0 += ks) {
    const int64_t kk = std::min(ks, k - k0);
    for (int64_t c = c0; c < c1; c += kPanel) {
      const float* slice = packed + c * k + k0 * kPanel;
      const float* next = c + kPanel < c1          ? slice + kPanel * k
                          : k0 + kk < k            ? packed + c0 * k + (k0 + kk) * kPanel
                                                   : nullptr;
      const int64_t cols = std::min(kPanel, m - c);
      for (int64_t r = r0, t = 0; r < r1; r += kRows, ++t) {
        const int rows = static_cast<int>(std::min<int64_t>(kRows, r1 - r));
        const int64_t ahead = (t - 1) * kk / kNextEvery * 16;
        const int mode = t == 0 ? kFirst : pull && next && ahead < kPanel * kk ? kNext : kNone;
        kTiles[mode][rows - 1](x + r * k + k0, k, kk, slice, bias ? bias + c : nullptr,
                               y + r * m + c, m, cols, k0 > 0, k0 + kk == k,
                               epilogue == Epilogue::kBiasGelu, mode == kNext ? next + ahead : nullptr);
      }
    }
  }
}

}  // namespace

int64_t gemm_packed_floats(int64_t m, int64_t k) { return (m + kPanel - 1) / kPanel * kPanel * k; }

void gemm_pack(const float* w, int64_t m, int64_t k, float* packed) {
  const int64_t mp = (m + kPanel - 1) / kPanel * kPanel;
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < mp / kPanel; ++p) {
    float* panel = packed + p * kPanel * k;
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < kPanel; ++j) {
        const int64_t c = p * kPanel + j;
        panel[i * kPanel + j] = c < m ? w[c * k + i] : 0.0f;
      }
  }
}

void gemm_packed(const float* x, const float* packed, const float* bias, float* y, int64_t n,
                 int64_t m, int64_t k, Epilogue epilogue) {
  if (gemm_degenerate(bias, y, n, m, k, epilogue)) return;
  const int64_t mp = (m + kPanel - 1) / kPanel * kPanel;
  const int64_t ks = slice_len(n, k);
  // Blocks of equal size: 1x512 had 504 + 8 rows, the 8 streaming every panel again.
  const int64_t block_rows = equal_block_rows(n, block_rows_for(ks), kRows);
  // One row tile (a short sentence) only streams the weights: each thread then takes one
  // contiguous run of panels, which the prefetchers follow without restarting at every chunk.
  const int64_t threads = omp_get_max_threads();
  const int64_t chunk = n <= kRows ? (mp / kPanel + threads - 1) / threads * kPanel : kColChunk;
  // Small products (tiny models, the pooler at batch 1) are not worth waking the team.
  for_each_block(n, mp, block_rows, chunk, n * m * k >= (int64_t{1} << 18),
                 [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
                   block(x, packed, bias, y, m, k, ks, r0, r1, c0, c1, epilogue);
                 });
}

}  // namespace bertc::cpu::avx512
