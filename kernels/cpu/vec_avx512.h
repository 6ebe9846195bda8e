// 16-lane AVX-512 twins of vec.h's primitives, for the kernels' AVX-512 paths (chosen at run
// time with has_avx512(), so callers carry BERTC_AVX512 and this header needs no -mavx512f).
// Each does vec.h's operations in vec.h's order: the same bits as the scalar function.
#pragma once

// GCC 12 flags the _mm512_undefined operands inside its own reduce intrinsics as
// maybe-uninitialized: a false positive in the compiler's header (they are never read).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cmath>
#include <initializer_list>

#define BERTC_AVX512 __attribute__((target("avx512f")))

namespace bertc::cpu {

// fast_exp (vec.h) on 16 lanes with the same operations in the same order: the same bits.
BERTC_AVX512 inline __m512 fast_exp16(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-87.3f), hi = _mm512_set1_ps(88.0f);
  const __m512 xc = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
  const __m512 round = _mm512_set1_ps(12582912.0f);
  const __m512 k = _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)), round), round);
  const __m512 r = _mm512_sub_ps(_mm512_sub_ps(xc, _mm512_mul_ps(k, _mm512_set1_ps(0.693145751953125f))),
                                 _mm512_mul_ps(k, _mm512_set1_ps(1.42860682030941723e-6f)));
  __m512 p = _mm512_set1_ps(1.0f / 720.0f);
  for (const float c : {1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f, 1.0f})
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(c));
  const __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(k), _mm512_set1_epi32(127)), 23);
  __m512 y = _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
  y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ), _mm512_set1_ps(INFINITY));
  y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ), _mm512_setzero_ps());
  return _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);  // NaN stays NaN
}

}  // namespace bertc::cpu
