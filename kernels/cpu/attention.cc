// CPU attention over a packed batch: one (sequence, head) pair per task, queries 8 (AVX-512) or
// 4 at a time, their score rows and the head's K^T in the calling thread's slice of `scratch`.
// Each output element is computed by one thread in a fixed order, so a sequence gives the same
// bits alone or in any batch, with any thread count. Checked against kernels/ref/attention.cc (1e-5).
#include "kernels/attention.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "kernels/cpu/gemm_paths.h"
#include "kernels/cpu/vec.h"
#include "kernels/cpu/vec_avx512.h"

namespace bertc::cpu {
namespace {

// Heads up to this width (BERT 64, MiniLM 32) take the fast path: the head's K is transposed
// into the thread's scratch so q k^T runs as axpys over contiguous keys (no horizontal sums).
// Wider heads fall back to one lane-split dot product per key.
constexpr int64_t kMaxTransposedHeadDim = 128;
constexpr int64_t kQueryBlock = 8;  // queries scored together: each K^T load feeds 8 rows

// Rows of the scratch start on a 128-byte boundary (two cache lines, two zmm of keys), so two
// threads never write the same line and the AVX-512 path reads whole 32-key blocks.
int64_t row_stride(int64_t seq_len_max) { return (seq_len_max + 31) / 32 * 32; }

// Per-thread scratch: kQueryBlock score rows, then K^T of one head [kMaxTransposedHeadDim, stride],
// then (AVX-512 path) the head's V rows side by side [stride, kMaxTransposedHeadDim].
int64_t thread_floats(int64_t seq_len_max) {
  return row_stride(seq_len_max) * (kQueryBlock + 2 * kMaxTransposedHeadDim);
}

// scores[r][j] = q_r . k_j / sqrt(D) for NQ queries (rows q[r * h]) and the len keys, from
// kt = K^T [D, stride] whose padding columns are zero. Keys go 16 at a time so the NQ x 16
// partial sums stay in registers. Every score is 0 + q[0] k[0] + q[1] k[1] + ... in that order,
// then scaled, whatever NQ is: blocked and single queries give the same bits.
template <int64_t NQ>
void scores_transposed(const float* q, int64_t h, const float* kt, int64_t stride, int64_t len,
                       int64_t head_dim, float scale, float* scores) {
  for (int64_t j0 = 0; j0 < len; j0 += kLanes) {
    float acc[NQ][kLanes] = {};
    for (int64_t d = 0; d < head_dim; ++d) {
      const float* ktd = kt + d * stride + j0;
      float qd[NQ];
      for (int64_t r = 0; r < NQ; ++r) qd[r] = q[r * h + d];
      for (int64_t l = 0; l < kLanes; ++l) {
        const float key = ktd[l];
#pragma GCC unroll 4
        for (int64_t r = 0; r < NQ; ++r) acc[r][l] += qd[r] * key;
      }
    }
    const int64_t width = std::min(kLanes, len - j0);
    for (int64_t r = 0; r < NQ; ++r)
      for (int64_t l = 0; l < width; ++l) scores[r * stride + j0 + l] = acc[r][l] * scale;
  }
}

// Softmax of one score row in place: p_j = exp(s_j - max) / sum.
void softmax_row(float* scores, int64_t len) {
  float max_score = -INFINITY;
  for (int64_t j = 0; j < len; ++j) max_score = std::max(max_score, scores[j]);
  // Shifting by the row max keeps exp <= 1: no overflow for any score.
  for (int64_t j = 0; j < len; ++j) scores[j] = fast_exp(scores[j] - max_score);
  const float inv_sum = 1.0f / row_sum(scores, len);  // one term is exp(0) = 1, so sum >= 1
  for (int64_t j = 0; j < len; ++j) scores[j] *= inv_sum;
}

// out_r = sum_j p[r][j] v_j for NQ rows of probabilities (row stride `stride`), D in chunks of
// 32 so the NQ x 32 sums stay in registers while each v_j chunk is loaded once. Every output is
// 0 + p_0 v_0 + p_1 v_1 + ... in that order, whatever NQ is.
template <int64_t NQ>
void probs_times_v(const float* p, int64_t stride, int64_t len, const float* v, int64_t h,
                   float* out, int64_t head_dim) {
  constexpr int64_t kChunk = 32;
  for (int64_t d0 = 0; d0 < head_dim; d0 += kChunk) {
    const int64_t width = std::min(kChunk, head_dim - d0);
    float acc[NQ][kChunk] = {};
    for (int64_t j = 0; j < len; ++j) {
      const float* vj = v + j * h + d0;
      float pj[NQ];
      for (int64_t r = 0; r < NQ; ++r) pj[r] = p[r * stride + j];
      if (width == kChunk) {
        for (int64_t c = 0; c < kChunk; ++c) {
          const float value = vj[c];
#pragma GCC unroll 4
          for (int64_t r = 0; r < NQ; ++r) acc[r][c] += pj[r] * value;
        }
      } else {
        for (int64_t c = 0; c < width; ++c)
          for (int64_t r = 0; r < NQ; ++r) acc[r][c] += pj[r] * vj[c];
      }
    }
    for (int64_t r = 0; r < NQ; ++r) std::copy(acc[r], acc[r] + width, out + r * h + d0);
  }
}

// The AVX-512 path (heads of D = 16·C·n, D <= kMaxTransposedHeadDim). Every score is one FMA
// chain over d = 0, 1, ..., every output one FMA chain over keys j = 0, 1, ... then times
// 1 / sum, whatever NQ is, so a sequence's bits do not depend on its batch. Its softmax is fused
// into the two products (the row max taken as the scores are stored, the 1 / sum applied to the
// outputs), so it is checked against the reference within tolerance, not bit for bit against the
// portable path above.

__mmask16 keys_mask(int64_t len, int64_t j) {
  return static_cast<__mmask16>(len - j >= 16 ? 0xffff : len - j <= 0 ? 0 : (1u << (len - j)) - 1);
}

// K^T [D, stride] of one head, zero beyond len: one 16-key gather per (d, block of 16 keys).
BERTC_AVX512 void transpose_keys(const float* kh, int64_t h, int64_t len, int64_t head_dim,
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
BERTC_AVX512 void scores_avx512(const float* q, int64_t h, const float* kt, int64_t stride,
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
BERTC_AVX512 float exp_row(float* scores, int64_t len, float row_max) {
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
BERTC_AVX512 void probs_times_v_avx512(const float* e, int64_t stride, const float* inv_sum,
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
BERTC_AVX512 void probs_times_v_rows(const float* e, int64_t stride, const float* inv_sum,
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
BERTC_AVX512 void query_block_avx512(const float* qh, const float* kt, const float* vp, float* oh,
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
BERTC_AVX512 void head_avx512(const float* qh, const float* kh, const float* vh, float* oh,
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

int64_t attention_scratch_floats(int64_t seq_len_max, int64_t threads) {
  return thread_floats(seq_len_max) * std::max<int64_t>(threads, 1);
}

void attention(const float* q, const float* k, const float* v, float* out,
               const int32_t* cu_seqlens, int64_t num_seqs, int64_t num_heads, int64_t head_dim,
               float* scratch) {
  const int64_t h = num_heads * head_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const bool transposed = head_dim <= kMaxTransposedHeadDim;
  const bool avx512 = transposed && head_dim % 16 == 0 && has_avx512();
  int64_t seq_len_max = 0, work = 0;  // work: multiply-adds of the two products
  for (int64_t b = 0; b < num_seqs; ++b) {
    const int64_t len = cu_seqlens[b + 1] - cu_seqlens[b];
    seq_len_max = std::max(seq_len_max, len);
    work += 2 * len * len * h;
  }
  const int64_t stride = row_stride(seq_len_max);
  // Dynamic: (sequence, head) pairs differ in cost by len^2.
#pragma omp parallel for schedule(dynamic) if (work >= kMinParallelFloats)
  for (int64_t task = 0; task < num_seqs * num_heads; ++task) {
    const int64_t b = task / num_heads, col = (task % num_heads) * head_dim;
    const int64_t begin = cu_seqlens[b], len = cu_seqlens[b + 1] - begin;
    float* scores = scratch + omp_get_thread_num() * thread_floats(seq_len_max);  // [4, stride]
    float* kt = scores + kQueryBlock * stride;  // [D, stride]: this head's keys, transposed
    const float* qh = q + begin * h + col;      // [len, D] at row stride h, like kh, vh, oh
    const float* kh = k + begin * h + col;
    const float* vh = v + begin * h + col;
    float* oh = out + begin * h + col;
    if (avx512) {
      head_avx512(qh, kh, vh, oh, h, len, head_dim, scale, stride, scores, kt);
      continue;
    }
    if (!transposed) {
      for (int64_t i = 0; i < len; ++i) {
        for (int64_t j = 0; j < len; ++j) scores[j] = row_dot(qh + i * h, kh + j * h, head_dim) * scale;
        softmax_row(scores, len);
        probs_times_v<1>(scores, stride, len, vh, h, oh + i * h, head_dim);
      }
      continue;
    }
    const int64_t len_padded = (len + kLanes - 1) / kLanes * kLanes;
    for (int64_t d = 0; d < head_dim; ++d) {
      for (int64_t j = 0; j < len; ++j) kt[d * stride + j] = kh[j * h + d];
      std::fill(kt + d * stride + len, kt + d * stride + len_padded, 0.0f);
    }
    int64_t i = 0;
    for (; i + kQueryBlock <= len; i += kQueryBlock) {
      scores_transposed<kQueryBlock>(qh + i * h, h, kt, stride, len, head_dim, scale, scores);
      for (int64_t r = 0; r < kQueryBlock; ++r) softmax_row(scores + r * stride, len);
      probs_times_v<kQueryBlock>(scores, stride, len, vh, h, oh + i * h, head_dim);
    }
    for (; i < len; ++i) {
      scores_transposed<1>(qh + i * h, h, kt, stride, len, head_dim, scale, scores);
      softmax_row(scores, len);
      probs_times_v<1>(scores, stride, len, vh, h, oh + i * h, head_dim);
    }
  }
}

}  // namespace bertc::cpu
