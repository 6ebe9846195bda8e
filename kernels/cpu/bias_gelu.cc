// CPU bias + exact GELU, in place; checked against kernels/ref/bias_gelu.cc (1e-5). A process
// runs either the AVX-512 path or the scalar one (has_avx512), never both.
#include "kernels/bias_gelu.h"

#include <cmath>

#include "kernels/cpu/gemm_paths.h"
#include "kernels/cpu/vec.h"
#include "kernels/cpu/vec_avx512.h"

namespace bertc::cpu {
namespace {

// gelu(v) = 0.5 v (1 + erf(v / sqrt 2)): the constants and their derivation are in vec.h.
inline float gelu(float v) {
  const float z = std::fabs(v) * kGeluRsqrt2;
  const float t = 1.0f / (1.0f + kGeluP * z);
  const float poly =
      t * (kGeluA[0] + t * (kGeluA[1] + t * (kGeluA[2] + t * (kGeluA[3] + t * kGeluA[4]))));
  const float e = poly * fast_exp(-z * z);
  return 0.5f * v * (v >= 0.0f ? 2.0f - e : e);
}

// bias may be null: then no add (x + 0 would turn -0 into +0; gelu(-0) = -0 either way, but
// skipping keeps the epilogue one pass).
BERTC_AVX512 void bias_gelu_row_avx512(float* row, const float* bias, int64_t cols) {
  for (int64_t c = 0; c < cols; c += 16) {
    const __mmask16 m = static_cast<__mmask16>(cols - c >= 16 ? 0xffff : (1u << (cols - c)) - 1);
    __m512 v = _mm512_maskz_loadu_ps(m, row + c);
    if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + c));
    _mm512_mask_storeu_ps(row + c, m, gelu16(v));
  }
}

void bias_gelu_row(float* row, const float* bias, int64_t cols) {
  static const bool avx512 = has_avx512();
  if (avx512) return bias_gelu_row_avx512(row, bias, cols);
  for (int64_t c = 0; c < cols; ++c) row[c] = gelu(bias ? row[c] + bias[c] : row[c]);
}

}  // namespace

void bias_gelu(float* x, const float* bias, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols >= kMinParallelFloats)
  for (int64_t r = 0; r < rows; ++r) bias_gelu_row(x + r * cols, bias, cols);
}

void gelu_block(float* x, int64_t ld, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) bias_gelu_row(x + r * ld, nullptr, cols);
}

}  // namespace bertc::cpu
