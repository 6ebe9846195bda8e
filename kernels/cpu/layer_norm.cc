// CPU LayerNorm and fused bias + residual + LayerNorm, one row per iteration; checked against
// kernels/ref/layer_norm.cc (1e-5) and against ref gemm-free composition in the tests.
#include "kernels/layer_norm.h"

#include "kernels/cpu/vec.h"

namespace bertc::cpu {

void layer_norm(const float* x, const float* gamma, const float* beta, float eps, float* y,
                int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols >= kMinParallelFloats)
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * cols;
    float* out = y + r * cols;
    for (int64_t c = 0; c < cols; ++c) out[c] = in[c];
    layer_norm_row(out, gamma, beta, eps, cols);
  }
}

void bias_residual_layer_norm(const float* x, const float* bias, const float* residual,
                              const float* gamma, const float* beta, float eps, float* y,
                              int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols >= kMinParallelFloats)
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * cols;
    const float* res = residual + r * cols;
    float* out = y + r * cols;  // may be res: each element is read before it is written
    for (int64_t c = 0; c < cols; ++c) out[c] = in[c] + bias[c] + res[c];
    layer_norm_row(out, gamma, beta, eps, cols);
  }
}

}  // namespace bertc::cpu
