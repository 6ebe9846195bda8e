// Reference bf16 gemm: x and w rounded to bf16 (common/dtype.h), one double dot product per
// output element.
#include "kernels/gemm_bf16.h"

#include "common/dtype.h"

namespace bertc::ref {

void gemm_bf16(const float* x, const float* w, const float* bias, float* y, int64_t n,
               int64_t m, int64_t k) {
  auto bf16 = [](float v) { return static_cast<double>(bf16_to_f32(f32_to_bf16(v))); };
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t c = 0; c < m; ++c) {
      double acc = bias ? bias[c] : 0.0;
      for (int64_t i = 0; i < k; ++i) acc += bf16(x[r * k + i]) * bf16(w[c * k + i]);
      y[r * m + c] = static_cast<float>(acc);
    }
  }
}

}  // namespace bertc::ref
