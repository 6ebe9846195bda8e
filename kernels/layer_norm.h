// layer_norm: LayerNorm over the last dim, alone and fused with the residual add of BERT's
// attention-output and FFN-output blocks. For each row r of [rows, cols]:
//   v = x[r] + bias + residual[r];  y[r] = (v - mean(v)) / sqrt(var(v) + eps) * gamma + beta
// var is the biased variance (divide by cols), as torch.nn.LayerNorm. eps > 0 keeps a constant
// row finite (it becomes beta). y may alias residual (BERT writes back into the residual
// stream); y must not alias x. layer_norm is the same without bias and residual; y may alias x.
#pragma once

#include <cstdint>

namespace bertc::ref {
void layer_norm(const float* x, const float* gamma, const float* beta, float eps, float* y,
                int64_t rows, int64_t cols);
void bias_residual_layer_norm(const float* x, const float* bias, const float* residual,
                              const float* gamma, const float* beta, float eps, float* y,
                              int64_t rows, int64_t cols);
}  // namespace bertc::ref

namespace bertc::cpu {
void layer_norm(const float* x, const float* gamma, const float* beta, float eps, float* y,
                int64_t rows, int64_t cols);
void bias_residual_layer_norm(const float* x, const float* bias, const float* residual,
                              const float* gamma, const float* beta, float eps, float* y,
                              int64_t rows, int64_t cols);
}  // namespace bertc::cpu
