// The widening bf16 gemm, compiled into each file that includes it for that file's ISA: x and
// packed w (kernels/gemm_bf16.h) are widened to fp32 per task and multiplied with the vectors the
// file's flags give (GCC/clang vector extensions, no intrinsics): the portable path of
// cpu::gemm_bf16, and the AVX-512 one on CPUs without VDPBF16PS. Also the store every bf16 path
// ends with. Checked against kernels/ref/gemm_bf16.cc in tests/kernels/gemm_bf16_test.cc.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "common/dtype.h"
#include "kernels/cpu/gelu.h"
#include "kernels/cpu/gemm_tasks.h"
#include "kernels/cpu/isa_ns.h"
#include "kernels/cpu/scratch.h"
#include "kernels/gemm.h"  // Epilogue

namespace bertc::cpu {
inline namespace BERTC_ISA_NS {

// rows x cols of y (row stride m) from a [32, 32] block of fp32 sums (row stride 32), with the
// bias added and the epilogue applied: the shared ending of the bf16 paths.
inline void gemm_bf16_store(const float* sums, const float* bias, float* y, int64_t m,
                            int64_t rows, int64_t cols, Epilogue epilogue) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) y[r * m + c] = sums[r * 32 + c] + (bias ? bias[c] : 0.0f);
  if (epilogue == Epilogue::kBiasGelu) gelu_rows(y, m, rows, cols);
}

namespace widen {
// This path runs on the vectors the file's flags give (GCC/clang vector extensions, no
// intrinsics). Its micro-tile is kTileRows rows x kTileVecs vectors of widened packed w, sized so
// that the accumulators, one row of w and a broadcast fill the register file (32 registers with
// AVX-512, else 16).
#if defined(__AVX512F__)
constexpr int kVecLanes = 16, kTileRows = 6, kTileVecs = 4;
#elif defined(__AVX__)
constexpr int kVecLanes = 8, kTileRows = 3, kTileVecs = 4;
#else
constexpr int kVecLanes = 4, kTileRows = 3, kTileVecs = 4;
#endif
constexpr int kTileCols = kTileVecs * kVecLanes / 2;  // a packed row holds k pairs of 16 columns
static_assert(32 % kTileCols == 0, "a micro-tile must not straddle a 32-column group");
typedef float Vec __attribute__((vector_size(kVecLanes * sizeof(float))));
typedef int64_t VecPair __attribute__((vector_size(kVecLanes * sizeof(float))));
constexpr int64_t kXfBytes = 768 * 1024;    // a task's rows of x, widened, stay in L2
constexpr int64_t kPortableColChunk = 128;  // output columns per task
constexpr int64_t kPairBlock = 128;  // k pairs per pass: <= 32 KB of widened w per micro-tile

// The sums may use FMA: every lane of every row runs the same vector code (there are no scalar
// tails), so fusing keeps a row's bits independent of the batch. The project compiles with
// -ffp-contract=off for the kernels where that does not hold.
#if defined(__clang__)
#define BERTC_FP_CONTRACT _Pragma("clang fp contract(fast)")
#define BERTC_FP_CONTRACT_FN
#else
#define BERTC_FP_CONTRACT
#define BERTC_FP_CONTRACT_FN __attribute__((optimize("fp-contract=fast")))
#endif

inline Vec load_vec(const float* at) {
  Vec v;
  std::memcpy(&v, at, sizeof(Vec));
  return v;
}

// Rows [0, R) of xf (fp32, row stride kp) x the kTileCols columns at the start of wf (packed w
// widened to fp32, 64 floats per k pair: two column blocks' packed rows), k pairs [p0, p1). The
// lanes pair up as the packed rows do, (column j, even k) then (column j, odd k), so x comes in as
// its (x[2p], x[2p + 1]) pair broadcast, and each column's sum is its even-k lane plus its odd-k
// lane, both summed over p in increasing order. first: start from zero, else from `parked`; last:
// write the sums (row stride 32), else park the accumulators (an exact store) for the next pairs.
template <int R>
BERTC_FP_CONTRACT_FN void portable_tile(const float* xf, int64_t kp, const float* wf, int64_t p0,
                                        int64_t p1, bool first, bool last, Vec* parked,
                                        float* sums) {
  BERTC_FP_CONTRACT
  Vec acc[R][kTileVecs];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < kTileVecs; ++v) acc[r][v] = first ? Vec{} : parked[r * kTileVecs + v];
  for (int64_t p = p0; p < p1; ++p) {
    Vec w[kTileVecs];
#pragma GCC unroll 8
    for (int v = 0; v < kTileVecs; ++v) w[v] = load_vec(wf + p * 64 + v * kVecLanes);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      int64_t pair;  // two floats, moved as one integer: no arithmetic touches their bits
      std::memcpy(&pair, xf + r * kp + 2 * p, sizeof(pair));
      const Vec a = reinterpret_cast<Vec>(VecPair{} + pair);
#pragma GCC unroll 8
      for (int v = 0; v < kTileVecs; ++v) acc[r][v] += a * w[v];
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    if (!last) {
#pragma GCC unroll 8
      for (int v = 0; v < kTileVecs; ++v) parked[r * kTileVecs + v] = acc[r][v];
      continue;
    }
    float lanes[kTileVecs * kVecLanes];
#pragma GCC unroll 8
    for (int v = 0; v < kTileVecs; ++v) {
      const Vec one = acc[r][v];
      std::memcpy(lanes + v * kVecLanes, &one, sizeof(Vec));
    }
    for (int c = 0; c < kTileCols; ++c) sums[r * 32 + c] = lanes[2 * c] + lanes[2 * c + 1];
  }
}

using PortableTile = void (*)(const float*, int64_t, const float*, int64_t, int64_t, bool, bool,
                              Vec*, float*);

template <std::size_t... Rs>
constexpr std::array<PortableTile, kTileRows> portable_tiles(std::index_sequence<Rs...>) {
  return {&portable_tile<static_cast<int>(Rs) + 1>...};
}

// kPortableTiles[R - 1]: full tiles use kTileRows rows, the last rows of a task fewer.
inline constexpr auto kPortableTiles = portable_tiles(std::make_index_sequence<kTileRows>{});

// Rows [r0, r1) x columns [c0, c1) of y on the calling thread: one task of gemm_bf16_widened.
inline void portable_block(const uint16_t* xb, const uint16_t* w_packed, const float* bias,
                           float* y, int64_t m, int64_t kt, int64_t block_rows, int64_t r0,
                           int64_t r1, int64_t c0, int64_t c1, Epilogue epilogue) {
  const int64_t kp = kt * 32;
  // Per thread, grown once to the largest shape.
  float* xf = static_cast<float*>(thread_scratch(ScratchSlot::kTaskA, sizeof(float) * block_rows * kp));
  float* wf = static_cast<float*>(thread_scratch(ScratchSlot::kTaskB, sizeof(float) * 32 * kp));
  Vec* parked = static_cast<Vec*>(thread_scratch(ScratchSlot::kTaskC, sizeof(Vec) * block_rows * kTileVecs));
  for (int64_t i = 0; i < (r1 - r0) * kp; ++i) xf[i] = bf16_to_f32(xb[r0 * kp + i]);
  for (int64_t c = c0; c < c1; c += 32) {
    // The group's two column blocks: packed row p of each (32 bf16) side by side.
    for (int64_t half = 0; half < 2; ++half) {
      const uint16_t* rows = w_packed + (c / 16 + half) * kt * 512;
      for (int64_t p = 0; p < kp / 2; ++p)
        for (int64_t e = 0; e < 32; ++e)
          wf[p * 64 + half * 32 + e] = bf16_to_f32(rows[p * 32 + e]);
    }
    for (int64_t j = 0; j < 32 && c + j < m; j += kTileCols) {
      // k in blocks whose widened w (kPairBlock x kTileCols x 2 floats) stays in L1 over the
      // task's rows; k = 0 still runs one (empty) pass to write the bias.
      for (int64_t p0 = 0; p0 < kp / 2 || p0 == 0; p0 += kPairBlock) {
        const int64_t p1 = std::min(kp / 2, p0 + kPairBlock);
        for (int64_t r = r0; r < r1; r += kTileRows) {
          const int rows = static_cast<int>(std::min<int64_t>(kTileRows, r1 - r));
          float sums[kTileRows * 32];
          kPortableTiles[rows - 1](xf + (r - r0) * kp, kp, wf + 2 * j, p0, p1,
                                   p0 == 0, p1 == kp / 2, parked + (r - r0) * kTileVecs,
                                   sums);
          if (p1 == kp / 2)
            gemm_bf16_store(sums, bias ? bias + c + j : nullptr, y + r * m + c + j, m, rows,
                            std::min<int64_t>(kTileCols, m - c - j), epilogue);
        }
      }
    }
  }
}

}  // namespace widen

// y from xb (x rounded and padded by gemm_bf16_round_x) and packed w. Each task widens its rows
// of x and, one 32-column group at a time, the group's packed w to fp32 once, so the inner loop
// is plain vector multiply-adds (the conversions cost about 1 / rows and 1 / 128 of the
// multiply-adds). A row's bits do not depend on n: see portable_tile.
inline void gemm_bf16_widened(const uint16_t* xb, const uint16_t* w_packed, const float* bias,
                              float* y, int64_t n, int64_t m, int64_t k, Epilogue epilogue) {
  if (n == 0) return;
  const int64_t kt = (k + 31) / 32, kp = kt * 32, mp = (m + 31) / 32 * 32;
  // Row blocks of equal size: each pays for widening w once.
  const int64_t block_rows = equal_block_rows(
      n, std::max<int64_t>(widen::kTileRows, widen::kXfBytes / (std::max<int64_t>(kp, 32) * 4)),
      widen::kTileRows);
  for_each_block(n, mp, block_rows, widen::kPortableColChunk, n * m * k >= (int64_t{1} << 18),
                 [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
                   widen::portable_block(xb, w_packed, bias, y, m, kt, block_rows, r0, r1, c0,
                                         c1, epilogue);
                 });
}

}  // namespace BERTC_ISA_NS
}  // namespace bertc::cpu
