// Reference top-k: every score in double, a full stable sort. Slow and obviously right.
#include "kernels/topk.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "common/dtype.h"

namespace bertc::ref {
namespace {

template <typename Row>
void topk_impl(Row row_value, int64_t rows, int64_t dim, const float* queries, int64_t num_queries,
               int64_t k, int64_t* out_index, float* out_score) {
  std::vector<double> score(static_cast<size_t>(rows));
  std::vector<int64_t> order(static_cast<size_t>(rows));
  for (int64_t j = 0; j < num_queries; ++j) {
    const float* q = queries + j * dim;
    for (int64_t i = 0; i < rows; ++i) {
      double s = 0;
      for (int64_t d = 0; d < dim; ++d) s += double(row_value(i, d)) * q[d];
      score[i] = std::isnan(s) ? -std::numeric_limits<double>::infinity() : s;
    }
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return score[a] > score[b]; });
    for (int64_t r = 0; r < k; ++r) {
      out_index[j * k + r] = order[r];
      out_score[j * k + r] = static_cast<float>(score[order[r]]);
    }
  }
}

}  // namespace

void topk(const float* matrix, int64_t rows, int64_t dim, const float* queries, int64_t num_queries,
          int64_t k, int64_t* out_index, float* out_score) {
  topk_impl([&](int64_t i, int64_t d) { return matrix[i * dim + d]; }, rows, dim, queries,
            num_queries, k, out_index, out_score);
}

void topk_f16(const uint16_t* matrix, int64_t rows, int64_t dim, const float* queries,
              int64_t num_queries, int64_t k, int64_t* out_index, float* out_score) {
  topk_impl([&](int64_t i, int64_t d) { return f16_to_f32(matrix[i * dim + d]); }, rows, dim,
            queries, num_queries, k, out_index, out_score);
}

}  // namespace bertc::ref
