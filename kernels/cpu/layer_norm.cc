// CPU LayerNorm and fused bias + residual + LayerNorm, portable (kernels/cpu/layer_norm_impl.h);
// checked against kernels/ref/layer_norm.cc (1e-5) and the unfused composition in the tests.
#include "kernels/layer_norm.h"

#include "kernels/cpu/layer_norm_impl.h"

namespace bertc::cpu {

void layer_norm(const float* x, const float* gamma, const float* beta, float eps, float* y,
                int64_t rows, int64_t cols) {
  layer_norm_rows(x, gamma, beta, eps, y, rows, cols);
}

void bias_residual_layer_norm(const float* x, const float* bias, const float* residual,
                              const float* gamma, const float* beta, float eps, float* y,
                              int64_t rows, int64_t cols) {
  bias_residual_layer_norm_rows(x, bias, residual, gamma, beta, eps, y, rows, cols);
}

}  // namespace bertc::cpu
