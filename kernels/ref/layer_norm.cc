// Reference LayerNorm and bias + residual + LayerNorm: double accumulators, two passes.
#include "kernels/layer_norm.h"

#include <cmath>
#include <vector>

namespace bertc::ref {
namespace {

// Normalizes v (one row, already summed) into y.
void normalize_row(const std::vector<double>& v, const float* gamma, const float* beta, float eps,
                   float* y) {
  const auto cols = static_cast<int64_t>(v.size());
  double mean = 0;
  for (double e : v) mean += e;
  mean /= cols;
  double var = 0;
  for (double e : v) var += (e - mean) * (e - mean);
  var /= cols;
  const double rstd = 1.0 / std::sqrt(var + eps);
  for (int64_t c = 0; c < cols; ++c)
    y[c] = static_cast<float>((v[c] - mean) * rstd * gamma[c] + beta[c]);
}

}  // namespace

void layer_norm(const float* x, const float* gamma, const float* beta, float eps, float* y,
                int64_t rows, int64_t cols) {
  std::vector<double> v(cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) v[c] = x[r * cols + c];
    normalize_row(v, gamma, beta, eps, y + r * cols);
  }
}

void bias_residual_layer_norm(const float* x, const float* bias, const float* residual,
                              const float* gamma, const float* beta, float eps, float* y,
                              int64_t rows, int64_t cols) {
  std::vector<double> v(cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c)
      v[c] = static_cast<double>(x[r * cols + c]) + bias[c] + residual[r * cols + c];
    normalize_row(v, gamma, beta, eps, y + r * cols);
  }
}

}  // namespace bertc::ref
