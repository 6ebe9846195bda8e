// CPU attention over a packed batch: one (sequence, head) pair per task, one query row at a time
// with its score row in the calling thread's slice of `scratch`. Each output element is computed
// by one thread in a fixed order, so a sequence gives the same bits alone or in any batch, with
// any thread count. Checked against kernels/ref/attention.cc (1e-5).
#include "kernels/attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "kernels/cpu/vec.h"

namespace bertc::cpu {
namespace {
// Score rows start on a 64-byte boundary so two threads never write the same cache line.
int64_t scores_stride(int64_t seq_len_max) { return (seq_len_max + kLanes - 1) / kLanes * kLanes; }
}  // namespace

int64_t attention_scratch_floats(int64_t seq_len_max, int64_t threads) {
  return scores_stride(seq_len_max) * std::max<int64_t>(threads, 1);
}

void attention(const float* q, const float* k, const float* v, float* out,
               const int32_t* cu_seqlens, int64_t num_seqs, int64_t num_heads, int64_t head_dim,
               float* scratch) {
  const int64_t h = num_heads * head_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  int64_t seq_len_max = 0;
  for (int64_t b = 0; b < num_seqs; ++b)
    seq_len_max = std::max<int64_t>(seq_len_max, cu_seqlens[b + 1] - cu_seqlens[b]);
  const int64_t stride = scores_stride(seq_len_max);
  // Dynamic: (sequence, head) pairs differ in cost by len^2.
#pragma omp parallel for schedule(dynamic)
  for (int64_t task = 0; task < num_seqs * num_heads; ++task) {
    const int64_t b = task / num_heads, col = (task % num_heads) * head_dim;
    const int64_t begin = cu_seqlens[b], len = cu_seqlens[b + 1] - begin;
    float* scores = scratch + omp_get_thread_num() * stride;  // [len]
    for (int64_t i = 0; i < len; ++i) {
      const float* qi = q + (begin + i) * h + col;
      float max_score = -INFINITY;
      for (int64_t j = 0; j < len; ++j) {
        scores[j] = row_dot(qi, k + (begin + j) * h + col, head_dim) * scale;
        max_score = std::max(max_score, scores[j]);
      }
      // Shifting by the row max keeps exp <= 1: no overflow for any score.
      for (int64_t j = 0; j < len; ++j) scores[j] = fast_exp(scores[j] - max_score);
      const float sum = row_sum(scores, len);
      const float inv_sum = 1.0f / sum;  // >= 1 term equals 1, so sum >= 1
      float* oi = out + (begin + i) * h + col;
      std::fill(oi, oi + head_dim, 0.0f);
      for (int64_t j = 0; j < len; ++j) {
        const float p = scores[j] * inv_sum;
        const float* vj = v + (begin + j) * h + col;
        for (int64_t d = 0; d < head_dim; ++d) oi[d] += p * vj[d];
      }
    }
  }
}

}  // namespace bertc::cpu
