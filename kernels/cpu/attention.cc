// CPU attention over a packed batch: one (sequence, head) pair per task, queries 4 at a time,
// their score rows and the head's K^T in the calling thread's slice of `scratch`. Each output
// element is computed by one thread in a fixed order, so a sequence gives the same bits alone or
// in any batch, with any thread count. Checked against kernels/ref/attention.cc (1e-5).
#include "kernels/attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "kernels/cpu/vec.h"

namespace bertc::cpu {
namespace {

// Heads up to this width (BERT 64, MiniLM 32) take the fast path: the head's K is transposed
// into the thread's scratch so q k^T runs as axpys over contiguous keys (no horizontal sums).
// Wider heads fall back to one lane-split dot product per key.
constexpr int64_t kMaxTransposedHeadDim = 128;
constexpr int64_t kQueryBlock = 4;  // queries scored together: each K^T load feeds 4 rows

// Rows of the scratch start on a 64-byte boundary so two threads never write the same line.
int64_t row_stride(int64_t seq_len_max) { return (seq_len_max + kLanes - 1) / kLanes * kLanes; }

// Per-thread scratch: kQueryBlock score rows, then K^T of one head [kMaxTransposedHeadDim, stride].
int64_t thread_floats(int64_t seq_len_max) {
  return row_stride(seq_len_max) * (kQueryBlock + kMaxTransposedHeadDim);
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

// Softmax of one score row in place, then out_i = sum_j p_j v_j.
void softmax_times_v(float* scores, int64_t len, const float* v, int64_t h, float* oi,
                     int64_t head_dim) {
  float max_score = -INFINITY;
  for (int64_t j = 0; j < len; ++j) max_score = std::max(max_score, scores[j]);
  // Shifting by the row max keeps exp <= 1: no overflow for any score.
  for (int64_t j = 0; j < len; ++j) scores[j] = fast_exp(scores[j] - max_score);
  const float inv_sum = 1.0f / row_sum(scores, len);  // one term is exp(0) = 1, so sum >= 1
  std::fill(oi, oi + head_dim, 0.0f);
  for (int64_t j = 0; j < len; ++j) {
    const float p = scores[j] * inv_sum;
    const float* vj = v + j * h;
    for (int64_t d = 0; d < head_dim; ++d) oi[d] += p * vj[d];
  }
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
    if (!transposed) {
      for (int64_t i = 0; i < len; ++i) {
        for (int64_t j = 0; j < len; ++j) scores[j] = row_dot(qh + i * h, kh + j * h, head_dim) * scale;
        softmax_times_v(scores, len, vh, h, oh + i * h, head_dim);
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
      for (int64_t r = 0; r < kQueryBlock; ++r)
        softmax_times_v(scores + r * stride, len, vh, h, oh + (i + r) * h, head_dim);
    }
    for (; i < len; ++i) {
      scores_transposed<1>(qh + i * h, h, kt, stride, len, head_dim, scale, scores);
      softmax_times_v(scores, len, vh, h, oh + i * h, head_dim);
    }
  }
}

}  // namespace bertc::cpu
