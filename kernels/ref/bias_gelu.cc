// Reference bias + exact GELU, computed in double.
#include "kernels/bias_gelu.h"

#include <cmath>

namespace bertc::ref {

void bias_gelu(float* x, const float* bias, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const double v = static_cast<double>(x[r * cols + c]) + bias[c];
      x[r * cols + c] = static_cast<float>(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))));
    }
  }
}

}  // namespace bertc::ref
