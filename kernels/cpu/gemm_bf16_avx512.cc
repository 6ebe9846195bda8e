// AVX512-BF16 gemm (Zen 4, and Intel CPUs with AVX512-BF16 but no AMX): R rows x C column
// blocks of 16 fp32 accumulators, one VDPBF16PS per (row, block, k pair) reading a packed row of
// w (kernels/gemm_bf16.h) as it is and the row's k pair broadcast as one 32-bit lane.
//
// Why: one VDPBF16PS does 32 multiply-adds where an FMA does 16, and w is half the bytes; on a
// core that issues it as fast as an FMA (expected of Zen 4; not measured here) that is up to 2x
// the fp32 gemm. Sapphire Rapids issues it once every 2 cycles (FMAs: 2 per cycle), which holds
// this kernel there to ~0.6x the fp32 gemm whatever the tile (6x4, 8x3 and 4x6 measured the
// same), so cpu::gemm_bf16 prefers the portable path on CPUs with AMX hardware whose tiles were
// not granted.
//
// Also the widening path (gemm_bf16_widen.h) at AVX-512 width, for AVX-512 CPUs without
// AVX512-BF16 (Skylake-SP, Ice Lake) and those whose VDPBF16PS is slow (see cpu_plan.cc).
//
// Why a row's bits never depend on n or the threads: each accumulator lane sums its row's k pairs
// in increasing order through the same instruction, whatever tile size, block or thread it falls
// in (tail tiles only compute fewer rows or blocks, never differently). VDPBF16PS treats bf16
// subnormal inputs as zero and flushes subnormal sums: far below the tolerance of any embedding.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "kernels/cpu/gelu.h"
#include "kernels/cpu/gemm_bf16_paths.h"
#include "kernels/cpu/gemm_bf16_widen.h"
#include "kernels/cpu/gemm_tasks.h"
#include "kernels/cpu/kernels_avx512.h"

namespace bertc::cpu::avx512 {
namespace {

constexpr int kRows = 6;                      // micro-tile rows (x rows)
constexpr int kBlocks = 4;                    // micro-tile column blocks of 16: 24 + 4 + 1 zmm
constexpr int64_t kTileElems = 512;           // bf16 in one packed 16 x 32 tile of w (1 KB)
constexpr int64_t kXBlockBytes = 512 * 1024;  // the x rows of a task stay in L2 across its columns
constexpr int64_t kColChunk = 128;            // output columns per task: 6 tasks at m = 768

// The file is compiled for AVX-512 F/BW/VL/DQ only (Skylake-SP has no BF16): the functions that
// issue VDPBF16PS ask for it themselves, and cpu_plan.cc runs them only on CPUs that have it.
#define BERTC_AVX512BF16 __attribute__((target("avx512bf16")))

// Rows [0, R) of xb (row stride kp) x column blocks [0, C) of w (block stride kt tiles), over all
// k; stores the columns below `cols` of the R rows of y (row stride m), bias added.
template <int R, int C>
BERTC_AVX512BF16 void micro_tile(const uint16_t* x, const uint16_t* w, int64_t kt,
                                 const float* bias, float* y, int64_t m, int64_t cols) {
  const int64_t kp = kt * 32, block = kt * kTileElems;
  __m512 acc[R][C];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  // A column block's packed rows follow each other over all of k: C sequential streams.
  for (int64_t p = 0; p < kp / 2; ++p) {
    __m512i wv[C];
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) wv[c] = _mm512_loadu_si512(w + c * block + p * 32);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      int32_t pair;
      std::memcpy(&pair, x + r * kp + 2 * p, 4);
      const __m512i xv = _mm512_set1_epi32(pair);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c)
        acc[r][c] = _mm512_dpbf16_ps(acc[r][c], reinterpret_cast<__m512bh>(xv),
                                     reinterpret_cast<__m512bh>(wv[c]));
    }
  }
#pragma GCC unroll 8
  for (int c = 0; c < C; ++c) {
    if (c * 16 >= cols) break;
    const __mmask16 mask = static_cast<__mmask16>(
        cols - c * 16 >= 16 ? 0xffff : (1u << (cols - c * 16)) - 1);
    const __m512 b = bias ? _mm512_maskz_loadu_ps(mask, bias + c * 16) : _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
      _mm512_mask_storeu_ps(y + r * m + c * 16, mask, _mm512_add_ps(acc[r][c], b));
  }
}

using MicroTile = void (*)(const uint16_t*, const uint16_t*, int64_t, const float*, float*,
                           int64_t, int64_t);

// kTiles[R - 1][C - 1]: full tiles use <kRows, kBlocks>; the row and column tails the smaller.
template <int R, std::size_t... Cs>
constexpr std::array<MicroTile, kBlocks> row_of_tiles(std::index_sequence<Cs...>) {
  return {&micro_tile<R, static_cast<int>(Cs) + 1>...};
}

template <std::size_t... Rs>
constexpr std::array<std::array<MicroTile, kBlocks>, kRows> all_tiles(std::index_sequence<Rs...>) {
  return {row_of_tiles<static_cast<int>(Rs) + 1>(std::make_index_sequence<kBlocks>{})...};
}

constexpr auto kTiles = all_tiles(std::make_index_sequence<kRows>{});

// Rows [r0, r1) x columns [c0, c1) (c0, c1 multiples of 16 within the padded w) of y.
void block(const uint16_t* xb, const uint16_t* w_packed, const float* bias, float* y, int64_t m,
           int64_t kt, int64_t r0, int64_t r1, int64_t c0, int64_t c1, Epilogue epilogue) {
  const int64_t kp = kt * 32;
  for (int64_t c = c0; c < c1; c += 16 * kBlocks) {
    const int blocks = static_cast<int>(std::min<int64_t>(kBlocks, (c1 - c) / 16));
    const int64_t cols = std::min<int64_t>(16 * kBlocks, m - c);
    for (int64_t r = r0; r < r1; r += kRows) {
      const int rows = static_cast<int>(std::min<int64_t>(kRows, r1 - r));
      kTiles[rows - 1][blocks - 1](xb + r * kp, w_packed + c / 16 * kt * kTileElems, kt,
                                   bias ? bias + c : nullptr, y + r * m + c, m, cols);
    }
  }
  // The block of y is final and still in cache.
  if (epilogue == Epilogue::kBiasGelu && c0 < m)
    gelu_rows(y + r0 * m + c0, m, r1 - r0, std::min(c1, m) - c0);
}

}  // namespace

void gemm_bf16(const float* x, const uint16_t* w_packed, const float* bias, float* y, int64_t n,
               int64_t m, int64_t k, Epilogue epilogue) {
  if (n == 0 || m == 0) return;
  const uint16_t* xb = gemm_bf16_rounded_x(x, n, k);
  const int64_t kt = (k + 31) / 32;
  const int64_t mp = (m + 31) / 32 * 32;
  const int64_t block_rows =
      std::max<int64_t>(kRows, kXBlockBytes / (std::max<int64_t>(kt, 1) * 64) / kRows * kRows);
  for_each_block(n, mp, block_rows, kColChunk, n * m * k >= (int64_t{1} << 20),
                 [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
                   block(xb, w_packed, bias, y, m, kt, r0, r1, c0, c1, epilogue);
                 });
}

void gemm_bf16_widened(const float* x, const uint16_t* w_packed, const float* bias, float* y,
                       int64_t n, int64_t m, int64_t k, Epilogue epilogue) {
  if (n == 0 || m == 0) return;
  cpu::gemm_bf16_widened(gemm_bf16_rounded_x(x, n, k), w_packed, bias, y, n, m, k, epilogue);
}

}  // namespace bertc::cpu::avx512
