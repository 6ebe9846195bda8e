// Reference embedding: plain loops, double accumulators. The cpu version is tested against it.
#include "kernels/embedding.h"

#include <cmath>
#include <vector>

namespace bertc::ref {

void embedding(const int32_t* ids, const int32_t* type_ids, const int32_t* position_ids, int64_t n,
               const float* word, const float* position, const float* token_type,
               const float* gamma, const float* beta, float eps, int64_t hidden, float* out) {
  std::vector<double> v(hidden);
  for (int64_t i = 0; i < n; ++i) {
    const float* w = word + ids[i] * hidden;
    const float* p = position + position_ids[i] * hidden;
    const float* t = token_type + type_ids[i] * hidden;
    double mean = 0;
    for (int64_t c = 0; c < hidden; ++c) {
      v[c] = static_cast<double>(w[c]) + p[c] + t[c];
      mean += v[c];
    }
    mean /= hidden;
    double var = 0;
    for (int64_t c = 0; c < hidden; ++c) var += (v[c] - mean) * (v[c] - mean);
    var /= hidden;
    const double rstd = 1.0 / std::sqrt(var + eps);
    for (int64_t c = 0; c < hidden; ++c)
      out[i * hidden + c] = static_cast<float>((v[c] - mean) * rstd * gamma[c] + beta[c]);
  }
}

}  // namespace bertc::ref
