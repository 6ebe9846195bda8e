// What the CPU gemm paths share: the shapes with nothing to multiply, and how they spread y [n, m]
// over the OpenMP team: row blocks x column chunks, one task each, in a dynamic schedule. At batch 1 the column chunks keep every core busy (each
// streams its own share of w once), at large batch the row blocks do. Every output is computed
// the same way by whichever thread runs its task, so the split never changes a bit.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/cpu/gelu.h"
#include "kernels/cpu/isa_ns.h"
#include "kernels/gemm.h"  // Epilogue

namespace bertc::cpu {
inline namespace BERTC_ISA_NS {

// Handles the shapes with nothing to multiply (n or m zero: no output; k zero: y = bias or 0)
// and returns true; every path starts with it so they agree on edge cases.
inline bool gemm_degenerate(const float* bias, float* y, int64_t n, int64_t m, int64_t k,
                            Epilogue epilogue) {
  if (n != 0 && m != 0 && k != 0) return false;
  for (int64_t r = 0; r < n && k == 0; ++r)
    for (int64_t c = 0; c < m; ++c) y[r * m + c] = bias ? bias[c] : 0.0f;
  if (k == 0 && epilogue == Epilogue::kBiasGelu) gelu_rows(y, m, n, m);
  return true;
}

// Rows per block when n rows are cut into blocks of at most max_rows (a multiple of tile), all of
// one size in whole tiles: a last block of a few rows would pay a block's fixed cost (streaming
// every panel of w, widening it) for little work.
inline int64_t equal_block_rows(int64_t n, int64_t max_rows, int64_t tile) {
  const int64_t blocks = std::max<int64_t>(1, (n + max_rows - 1) / max_rows);
  return std::max(tile, ((n + blocks - 1) / blocks + tile - 1) / tile * tile);
}

// Calls block(r0, r1, c0, c1) for every block of block_rows rows x chunk columns of [n, m] (the
// last ones clipped to n and m), on the team when `parallel` and there is more than one.
template <typename Block>
void for_each_block(int64_t n, int64_t m, int64_t block_rows, int64_t chunk, bool parallel,
                    const Block& block) {
  const int64_t row_blocks = (n + block_rows - 1) / block_rows;
  const int64_t col_chunks = (m + chunk - 1) / chunk;
  const int64_t tasks = row_blocks * col_chunks;
#pragma omp parallel for schedule(dynamic) if (parallel && tasks > 1)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t r0 = t / col_chunks * block_rows, c0 = t % col_chunks * chunk;
    block(r0, std::min(n, r0 + block_rows), c0, std::min(m, c0 + chunk));
  }
}

}  // namespace BERTC_ISA_NS
}  // namespace bertc::cpu
