// GELU rows, compiled into each file that includes it for that file's instruction set: the
// scalar erf form below (which the compiler vectorizes), or 16 lanes at a time (gelu16) in files
// built with AVX-512. A gemm's fused epilogue and its ISA's bias_gelu both come from here, so
// within one ISA they give the same bits. Checked against kernels/ref/bias_gelu.cc (1e-5).
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/cpu/isa_ns.h"
#include "kernels/cpu/vec.h"
#if defined(__AVX512F__)
#include "kernels/cpu/vec_avx512.h"
#endif

namespace bertc::cpu {
inline namespace BERTC_ISA_NS {

// gelu(v) = 0.5 v (1 + erf(v / sqrt 2)): the constants and their derivation are in vec.h.
inline float gelu(float v) {
  const float z = std::fabs(v) * kGeluRsqrt2;
  const float t = 1.0f / (1.0f + kGeluP * z);
  const float poly =
      t * (kGeluA[0] + t * (kGeluA[1] + t * (kGeluA[2] + t * (kGeluA[3] + t * kGeluA[4]))));
  const float e = poly * fast_exp(-z * z);
  return 0.5f * v * (v >= 0.0f ? 2.0f - e : e);
}

// row[c] = gelu(row[c] + bias[c]) over cols floats. bias may be null: then no add (x + 0 would
// turn -0 into +0; gelu(-0) = -0 either way, but skipping keeps the epilogue one pass).
inline void bias_gelu_row(float* row, const float* bias, int64_t cols) {
#if defined(__AVX512F__)
  for (int64_t c = 0; c < cols; c += 16) {
    const __mmask16 m = static_cast<__mmask16>(cols - c >= 16 ? 0xffff : (1u << (cols - c)) - 1);
    __m512 v = _mm512_maskz_loadu_ps(m, row + c);
    if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + c));
    _mm512_mask_storeu_ps(row + c, m, gelu16(v));
  }
#else
  for (int64_t c = 0; c < cols; ++c) row[c] = gelu(bias ? row[c] + bias[c] : row[c]);
#endif
}

// x[r * ld + c] = gelu(x[r * ld + c]) on a [rows, cols] block, on the calling thread.
inline void gelu_rows(float* x, int64_t ld, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) bias_gelu_row(x + r * ld, nullptr, cols);
}

// The whole of bias_gelu (kernels/bias_gelu.h) for this file's ISA.
inline void bias_gelu_rows(float* x, const float* bias, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols >= kMinParallelFloats)
  for (int64_t r = 0; r < rows; ++r) bias_gelu_row(x + r * cols, bias, cols);
}

}  // namespace BERTC_ISA_NS
}  // namespace bertc::cpu
