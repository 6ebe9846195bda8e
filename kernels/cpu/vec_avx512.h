// e^x and gelu on 16 lanes with FMAs, for the AVX-512 (and AMX) kernel files only: they are
// compiled with -mavx512f (CMakeLists.txt), and this header's code lands in their BERTC_ISA_NS.
// Neither gives the bits of its scalar version in vec.h; each kernel's test bounds the difference.
#pragma once

#if !defined(__AVX512F__)
#error "vec_avx512.h belongs to *_avx512.cc / *_amx.cc files (compiled with -mavx512f)"
#endif

// GCC 12 flags the _mm512_undefined operands inside its own intrinsics as maybe-uninitialized:
// a false positive in the compiler's header (they are never read).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cmath>
#include <initializer_list>

#include "kernels/cpu/vec.h"

namespace bertc::cpu {
inline namespace BERTC_ISA_NS {

// e^x for x <= 0 (or NaN) on 16 lanes with FMAs: p(r) * 2^k, vscalefps taking the underflow to
// 0. x is clamped where e^x is 0 in fp32 anyway (keeps r finite for huge |x|).
inline __m512 exp16_nonpositive(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(1.42860682030941723e-6f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720.0f);
  for (const float c : {1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f, 1.0f})
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
  return _mm512_scalef_ps(p, k);
}

// gelu (kernels/cpu/gelu.h) on 16 lanes, computed more cheaply (within 2e-7, not bit-equal):
// FMAs, the reciprocal by rcp14 and one Newton step (relative error ~2^-28, below fp32's), and
// e^x as p(r) * 2^k with vscalefps, which handles the underflow the scalar version clamps.
inline __m512 gelu16(__m512 v) {
  const __m512 z = _mm512_mul_ps(_mm512_abs_ps(v), _mm512_set1_ps(kGeluRsqrt2));
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 den = _mm512_fmadd_ps(_mm512_set1_ps(kGeluP), z, one);
  const __m512 r0 = _mm512_rcp14_ps(den);
  const __m512 t = _mm512_mul_ps(r0, _mm512_fnmadd_ps(den, r0, _mm512_set1_ps(2.0f)));
  __m512 poly = _mm512_fmadd_ps(t, _mm512_set1_ps(kGeluA[4]), _mm512_set1_ps(kGeluA[3]));
  for (int i = 2; i >= 0; --i) poly = _mm512_fmadd_ps(t, poly, _mm512_set1_ps(kGeluA[i]));
  poly = _mm512_mul_ps(t, poly);
  const __m512 e = _mm512_mul_ps(poly, exp16_nonpositive(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), z), z)));
  const __mmask16 negative = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NGE_UQ);  // !(v >= 0)
  const __m512 factor = _mm512_mask_mov_ps(_mm512_sub_ps(_mm512_set1_ps(2.0f), e), negative, e);
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), factor);
}

}  // namespace BERTC_ISA_NS
}  // namespace bertc::cpu
