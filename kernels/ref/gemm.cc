// Reference gemm: one double dot product per output element.
#include "kernels/gemm.h"

namespace bertc::ref {

void gemm(const float* x, const float* w, const float* bias, float* y, int64_t n, int64_t m,
          int64_t k) {
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t c = 0; c < m; ++c) {
      double acc = bias ? bias[c] : 0.0;
      for (int64_t i = 0; i < k; ++i) acc += static_cast<double>(x[r * k + i]) * w[c * k + i];
      y[r * m + c] = static_cast<float>(acc);
    }
  }
}

}  // namespace bertc::ref
