// gemm_bf16: the dense layers at --dtype bf16 on the CPU.
//   y[n, m] = bf16(x)[n, k] · bf16(w)[m, k]^T (+ bias[m])
// x and w are rounded to bfloat16 (nearest even), each product is exact in fp32 and the sums
// are fp32. Row r of y depends only on row r of x (as in kernels/gemm.h): a text embeds to the
// same bits alone or in any batch, with any thread count.
//
// w is packed once, at load, into the layout that both bf16 dot-product instructions read
// (AMX TDPBF16PS's B tile and AVX512-BF16 VDPBF16PS's second operand): tiles of 16 output
// columns x 32 k, one tile = 16 rows of k pairs, each row 16 columns x (w[c][2p], w[c][2p+1]),
// 1 KB. Tiles run over k first, then over column blocks; m is padded to 32 columns and k to 32
// with zeros, so the kernels never handle a partial tile of w.
//   element (c, i) -> ((c / 16 * KT + i / 32) * 16 + i % 32 / 2) * 32 + c % 16 * 2 + i % 2,
//   KT = k padded to 32, divided by 32.
#pragma once

#include <cstdint>

#include "kernels/gemm.h"  // Epilogue

namespace bertc {

// bf16 elements of the packed form of an [m, k] weight.
inline int64_t gemm_bf16_packed_elems(int64_t m, int64_t k) {
  return (m + 31) / 32 * 32 * ((k + 31) / 32 * 32);
}

// Rounds w [m, k] (fp32, row-major) to bf16 and packs it into `packed`
// (gemm_bf16_packed_elems(m, k) elements).
void gemm_bf16_pack(const float* w, int64_t m, int64_t k, uint16_t* packed);

}  // namespace bertc

namespace bertc::ref {
// x and the weight as given (unpacked, fp32), both rounded to bf16, dot products in double.
void gemm_bf16(const float* x, const float* w, const float* bias, float* y, int64_t n,
               int64_t m, int64_t k);
}  // namespace bertc::ref

namespace bertc::cpu {
// w_packed from gemm_bf16_pack. The portable path: x rounded, then x and w widened to fp32 per
// task for fp32 multiply-adds. The CPU plan (kernels/cpu/cpu_plan.h) runs AMX tiles, AVX512-BF16
// dot products or wider vectors where the CPU has them, on the same packed w.
void gemm_bf16(const float* x, const uint16_t* w_packed, const float* bias, float* y, int64_t n,
               int64_t m, int64_t k, Epilogue epilogue = Epilogue::kBias);
}  // namespace bertc::cpu
