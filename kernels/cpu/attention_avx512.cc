// CPU attention for AVX-512: heads of D = 16·C·n (D <= 128) with the softmax fused into the two
// products; other head widths run the portable path (kernels/cpu/attention.cc), so a shape always
// takes the same path. Checked against kernels/ref/attention.cc (1e-5) in
// tests/kernels/attention_test.cc.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/attention.h"
#include "kernels/cpu/attention_tasks.h"
#include "kernels/cpu/kernels_avx512.h"
#include "kernels/cpu/vec.h"
#include "kernels/cpu/vec_avx512.h"

namespace bertc::cpu::avx512 {
namespace {

// The AVX-512 path (heads of D = 16·C·n, D <= kMaxTransposedHeadDim). Every score is one FMA
// chain over d = 0, 1, ..., every output one FMA chain over keys j = 0, 1, ... then times
// 1 / sum, whatever NQ is, so a sequence's bits do not depend on its batch. Its softmax is fused
// into the two products (the row max taken as the scores are stored, the 1 / sum applied to the
// outputs), so it is checked against the reference within tolerance, not bit for bit against the
// portable path.

__mmask16 keys_mask(int64_t len, int64_t j) {
  return static_cast<__mmask16>(len - j >= 16 ? 0xffff : len - j <= 0 ? 0 : (1u << (len - j)) - 1);
}

// K^T [D, stride] of one head, zero beyond len: one 16-key gather per (d, block of 16 keys).
void transpose_keys(const float* kh, int64_t h, int64_t len, int64_t head_dim,
                    int64_t stride, float* kt) {
  const __m512i rows = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                          _mm512_set1_epi32(static_cast<int>(h)));
  const int64_t len_padded = (len + 31) / 32 * 32;
  for (int64_t j0 = 0; j0 < len_padded; j0 += 16) {
    const int64_t width = std::clamp<int64_t>(len - j0, 0, 16);
    const __mmask16 mask = static_cast<__mmask16>((1u << width) - 1);
    const float* base = kh + std::min(j0, len) * h;
    for (int64_t d = 0; d < head_dim; ++d)
      _mm512_storeu_ps(kt + d * stride + j0,
                      _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, rows, base + d, 4));
  }
}

// scores[r][j] = (q_r . k_j) * scale for NQ queries, 32 keys (two registers) at a time, and
// row_max[r] = the max over the row's len scores.
template <int NQ>
void scores_avx512(const float* q, int64_t h, const float* kt, int64_t stride,
                   int64_t len, int64_t head_dim, float scale, float* scores,
                   float* row_max) {
  const __m512 vscale = _mm512_set1_ps(scale);
  __m512 vmax[NQ];
#pragma GCC unroll 8
  for (int r = 0; r < NQ; ++r) vmax[r] = _mm512_set1_ps(-INFINITY);
  for (int64_t j0 = 0; j0 < len; j0 += 32) {
    __m512 lo[NQ], hi[NQ];
#pragma GCC unroll 8
    for (int r = 0; r < NQ; ++r) lo[r] = hi[r] = _mm512_setzero_ps();
#pragma GCC unroll 4
    for (int64_t d = 0; d < head_dim; ++d) {
      const __m512 k0 = _mm512_loadu_ps(kt + d * stride + j0);
      const __m512 k1 = _mm512_loadu_ps(kt + d * stride + j0 + 16);
#pragma GCC unroll 8
      for (int r = 0; r < NQ; ++r) {
        const __m512 qd = _mm512_set1_ps(q[r * h + d]);
        lo[r] = _mm512_fmadd_ps(qd, k0, lo[r]);
        hi[r] = _mm512_fmadd_ps(qd, k1, hi[r]);
      }
    }
    const __mmask16 m0 = keys_mask(len, j0), m1 = keys_mask(len, j0 + 16);
#pragma GCC unroll 8
    for (int r = 0; r < NQ; ++r) {
      const __m512 s0 = _mm512_mul_ps(lo[r], vscale), s1 = _mm512_mul_ps(hi[r], vscale);
      _mm512_storeu_ps(scores + r * stride + j0, s0);
      _mm512_storeu_ps(scores + r * stride + j0 + 16, s1);
      vmax[r] = _mm512_mask_max_ps(_mm512_mask_max_ps(vmax[r], m0, vmax[r], s0), m1, vmax[r], s1);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < NQ; ++r) {
    alignas(64) float lanes[kLanes];
    _mm512_store_ps(lanes, vmax[r]);
    row_max[r] = *std::max_element(lanes, lanes + kLanes);
  }
}

// One row in place: e_j = exp(s_j - max) for the len scores; returns 1 / sum e_j. Shifting by
// the row max keeps every e_j <= 1 and one of them 1, so the sum is >= 1.
float exp_row(float* scores, int64_t len, float row_max) {
  const __m512 shift = _mm512_set1_ps(row_max);
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j = 0; j < len; j += 16) {
    const __mmask16 m = keys_mask(len, j);
    const __m512 e = exp16_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, scores + j), shift));
    _mm512_mask_storeu_ps(scores + j, m, e);
    sum = _mm512_mask_add_ps(sum, m, sum, e);
  }
  alignas(64) float lanes[kLanes];
  _mm512_store_ps(lanes, sum);
  return 1.0f / fold_lanes(lanes);
}

// out_r = (sum_j e[r][j] v_j) / sum_j e[r][j] for NQ rows, C registers (16·C dims) of the head
// at a time; v: the head's rows side by side (row stride head_dim), out at row stride h.
template <int NQ, int C>
void probs_times_v_avx512(const float* e, int64_t stride, const float* inv_sum,
                          int64_t len, const float* v, float* out, int64_t h,
                          int64_t head_dim) {
  for (int64_t d0 = 0; d0 < head_dim; d0 += 16 * C) {
    __m512 acc[NQ][C];
#pragma GCC unroll 8
    for (int r = 0; r < NQ; ++r)
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
#pragma GCC unroll 4
    for (int64_t j = 0; j < len; ++j) {
      __m512 vj[C];
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) vj[c] = _mm512_loadu_ps(v + j * head_dim + d0 + 16 * c);
#pragma GCC unroll 8
      for (int r = 0; r < NQ; ++r) {
        const __m512 ej = _mm512_set1_ps(e[r * stride + j]);
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(ej, vj[c], acc[r][c]);
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < NQ; ++r)
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c)
        _mm512_storeu_ps(out + r * h + d0 + 16 * c, _mm512_mul_ps(acc[r][c], _mm512_set1_ps(inv_sum[r])));
  }
}

// Rows of the value product per call: NQ x C accumulators stay within 16 registers.
template <int C>
void probs_times_v_rows(const float* e, int64_t stride, const float* inv_sum,
                        int64_t rows, int64_t len, const float* v, float* out,
                        int64_t h, int64_t head_dim) {
  constexpr int kRows = 16 / C;
  int64_t r = 0;
  for (; r + kRows <= rows; r += kRows)
    probs_times_v_avx512<kRows, C>(e + r * stride, stride, inv_sum + r, len, v, out + r * h, h, head_dim);
  for (; r < rows; ++r)
    probs_times_v_avx512<1, C>(e + r * stride, stride, inv_sum + r, len, v, out + r * h, h, head_dim);
}

// NQ queries from row i: scores, exps, values.
template <int NQ>
void query_block_avx512(const float* qh, const float* kt, const float* vp, float* oh,
                        int64_t h, int64_t len, int64_t head_dim, float scale,
                        int64_t stride, float* scores) {
  float row_max[NQ], inv_sum[NQ];
  scores_avx512<NQ>(qh, h, kt, stride, len, head_dim, scale, scores, row_max);
  for (int r = 0; r < NQ; ++r) inv_sum[r] = exp_row(scores + r * stride, len, row_max[r]);
  if (head_dim % 32 == 0) return probs_times_v_rows<2>(scores, stride, inv_sum, NQ, len, vp, oh, h, head_dim);
  probs_times_v_rows<1>(scores, stride, inv_sum, NQ, len, vp, oh, h, head_dim);
}

// One (sequence, head): K^T, the packed V rows and the scores in the thread's scratch. V is
// copied because its rows are h floats apart (3 KB in BERT): every fourth one fell in the same
// L1 sets, and the value product streamed them from L2 once per query block.
void head_avx512(const float* qh, const float* kh, const float* vh, float* oh,
                 int64_t h, int64_t len, int64_t head_dim, float scale,
                 int64_t stride, float* scores, float* kt) {
  transpose_keys(kh, h, len, head_dim, stride, kt);
  float* vp = kt + kMaxTransposedHeadDim * stride;
  for (int64_t j = 0; j < len; ++j) std::copy(vh + j * h, vh + j * h + head_dim, vp + j * head_dim);
  int64_t i = 0;
  for (; i + kQueryBlock <= len; i += kQueryBlock)
    query_block_avx512<kQueryBlock>(qh + i * h, kt, vp, oh + i * h, h, len, head_dim, scale, stride, scores);
  for (; i < len; ++i) query_block_avx512<1>(qh + i * h, kt, vp, oh + i * h, h, len, head_dim, scale, stride, scores);
}

}  // namespace

void attention(const float* q, const float* k, const float* v, float* out,
               const int32_t* cu_seqlens, int64_t num_seqs, int64_t num_heads, int64_t head_dim,
               float* scratch) {
  if (head_dim > kMaxTransposedHeadDim || head_dim % 16 != 0)
    return cpu::attention(q, k, v, out, cu_seqlens, num_seqs, num_heads, head_dim, scratch);
  for_each_head(q, k, v, out, cu_seqlens, num_seqs, num_heads, head_dim, scratch,
                [](const Head& a) {
                  head_avx512(a.q, a.k, a.v, a.out, a.h, a.len, a.head_dim, a.scale, a.stride,
                              a.scores, a.kt);
                });
}

}  // namespace bertc::cpu::avx512
