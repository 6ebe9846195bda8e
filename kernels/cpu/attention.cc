// The portable CPU attention over a packed batch: one (sequence, head) pair per task, queries 8
// at a time, their score rows and the head's K^T in the calling thread's slice of `scratch`.
// Each output element is computed by one thread in a fixed order, so a sequence gives the same
// bits alone or in any batch, with any thread count. Checked against kernels/ref/attention.cc
// (1e-5).
#include "kernels/attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "kernels/cpu/attention_tasks.h"
#include "kernels/cpu/vec.h"

namespace bertc::cpu {
namespace {

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

// One (sequence, head) pair.
void head_portable(const Head& a) {
  const int64_t h = a.h, len = a.len, head_dim = a.head_dim, stride = a.stride;
  float* scores = a.scores;
  float* kt = a.kt;  // [D, stride]: this head's keys, transposed
  if (head_dim > kMaxTransposedHeadDim) {
    for (int64_t i = 0; i < len; ++i) {
      for (int64_t j = 0; j < len; ++j)
        scores[j] = row_dot(a.q + i * h, a.k + j * h, head_dim) * a.scale;
      softmax_row(scores, len);
      probs_times_v<1>(scores, stride, len, a.v, h, a.out + i * h, head_dim);
    }
    return;
  }
  const int64_t len_padded = (len + kLanes - 1) / kLanes * kLanes;
  for (int64_t d = 0; d < head_dim; ++d) {
    for (int64_t j = 0; j < len; ++j) kt[d * stride + j] = a.k[j * h + d];
    std::fill(kt + d * stride + len, kt + d * stride + len_padded, 0.0f);
  }
  int64_t i = 0;
  for (; i + kQueryBlock <= len; i += kQueryBlock) {
    scores_transposed<kQueryBlock>(a.q + i * h, h, kt, stride, len, head_dim, a.scale, scores);
    for (int64_t r = 0; r < kQueryBlock; ++r) softmax_row(scores + r * stride, len);
    probs_times_v<kQueryBlock>(scores, stride, len, a.v, h, a.out + i * h, head_dim);
  }
  for (; i < len; ++i) {
    scores_transposed<1>(a.q + i * h, h, kt, stride, len, head_dim, a.scale, scores);
    softmax_row(scores, len);
    probs_times_v<1>(scores, stride, len, a.v, h, a.out + i * h, head_dim);
  }
}

}  // namespace

int64_t attention_scratch_floats(int64_t seq_len_max, int64_t threads) {
  return thread_floats(seq_len_max) * std::max<int64_t>(threads, 1);
}

void attention(const float* q, const float* k, const float* v, float* out,
               const int32_t* cu_seqlens, int64_t num_seqs, int64_t num_heads, int64_t head_dim,
               float* scratch) {
  for_each_head(q, k, v, out, cu_seqlens, num_seqs, num_heads, head_dim, scratch, head_portable);
}

}  // namespace bertc::cpu
