// CPU bias + exact GELU, in place; checked against kernels/ref/bias_gelu.cc (1e-5). A process
// runs either the AVX-512 path or the scalar one (has_avx512), never both.
#include "kernels/bias_gelu.h"

#include <cmath>

#include "kernels/cpu/gemm_paths.h"
#include "kernels/cpu/vec.h"
#include "kernels/cpu/vec_avx512.h"

namespace bertc::cpu {
namespace {

// gelu(v) = 0.5 v (1 + erf(v / sqrt 2)). With z = |v| / sqrt 2 and e = erfc(z), the factor
// 1 + erf(v / sqrt 2) is 2 - e for v >= 0 and e for v < 0, so the negative tail is computed
// without cancellation. erfc from Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7), using only
// arithmetic and fast_exp.
constexpr float kRsqrt2 = 0.70710678118654752f;
constexpr float kP = 0.3275911f;
constexpr float kA[5] = {0.254829592f, -0.284496736f, 1.421413741f, -1.453152027f, 1.061405429f};

inline float gelu(float v) {
  const float z = std::fabs(v) * kRsqrt2;
  const float t = 1.0f / (1.0f + kP * z);
  const float poly = t * (kA[0] + t * (kA[1] + t * (kA[2] + t * (kA[3] + t * kA[4]))));
  const float e = poly * fast_exp(-z * z);
  return 0.5f * v * (v >= 0.0f ? 2.0f - e : e);
}

// The same formula on 16 lanes, computed more cheaply (within 2e-7 of gelu() above, not bit-equal):
// FMAs, the reciprocal by rcp14 and one Newton step (relative error ~2^-28, below fp32's), and
// e^x as p(r) * 2^k with vscalefps, which handles the underflow the scalar version clamps.
BERTC_AVX512 __m512 gelu16(__m512 v) {
  const __m512 z = _mm512_mul_ps(_mm512_abs_ps(v), _mm512_set1_ps(kRsqrt2));
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 den = _mm512_fmadd_ps(_mm512_set1_ps(kP), z, one);
  const __m512 r0 = _mm512_rcp14_ps(den);
  const __m512 t = _mm512_mul_ps(r0, _mm512_fnmadd_ps(den, r0, _mm512_set1_ps(2.0f)));
  __m512 poly = _mm512_fmadd_ps(t, _mm512_set1_ps(kA[4]), _mm512_set1_ps(kA[3]));
  for (int i = 2; i >= 0; --i) poly = _mm512_fmadd_ps(t, poly, _mm512_set1_ps(kA[i]));
  poly = _mm512_mul_ps(t, poly);
  // e^x for x = -z^2, clamped where e^x is 0 in fp32 anyway (keeps r finite for huge |v|).
  const __m512 x = _mm512_max_ps(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), z), z),
                                 _mm512_set1_ps(-104.0f));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(1.42860682030941723e-6f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720.0f);
  for (const float c : {1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f, 1.0f})
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
  const __m512 e = _mm512_mul_ps(poly, _mm512_scalef_ps(p, k));
  const __mmask16 negative = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NGE_UQ);  // !(v >= 0)
  const __m512 factor = _mm512_mask_mov_ps(_mm512_sub_ps(_mm512_set1_ps(2.0f), e), negative, e);
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), factor);
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
