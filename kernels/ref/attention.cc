// Reference attention: for each sequence, head and query, the full score row in double, a
// max-shifted softmax, then the weighted sum of values. Ignores `scratch`.
#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace bertc::ref {

void attention(const float* q, const float* k, const float* v, float* out,
               const int32_t* cu_seqlens, int64_t num_seqs, int64_t num_heads, int64_t head_dim,
               float* /*scratch*/) {
  const int64_t h = num_heads * head_dim;
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  for (int64_t b = 0; b < num_seqs; ++b) {
    const int64_t begin = cu_seqlens[b], len = cu_seqlens[b + 1] - begin;
    std::vector<double> p(len);
    for (int64_t head = 0; head < num_heads; ++head) {
      const int64_t col = head * head_dim;
      for (int64_t i = 0; i < len; ++i) {
        const float* qi = q + (begin + i) * h + col;
        double max_score = -INFINITY;
        for (int64_t j = 0; j < len; ++j) {
          const float* kj = k + (begin + j) * h + col;
          double s = 0;
          for (int64_t d = 0; d < head_dim; ++d) s += static_cast<double>(qi[d]) * kj[d];
          p[j] = s * scale;
          max_score = std::max(max_score, p[j]);
        }
        double sum = 0;
        for (int64_t j = 0; j < len; ++j) {
          p[j] = std::exp(p[j] - max_score);
          sum += p[j];
        }
        for (int64_t d = 0; d < head_dim; ++d) {
          double acc = 0;
          for (int64_t j = 0; j < len; ++j) acc += p[j] * v[(begin + j) * h + col + d];
          out[(begin + i) * h + col + d] = static_cast<float>(acc / sum);
        }
      }
    }
  }
}

}  // namespace bertc::ref
