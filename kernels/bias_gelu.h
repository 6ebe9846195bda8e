// bias_gelu: the FFN activation, fused with the bias of the preceding GEMM (in place).
//   x[r, c] = gelu(x[r, c] + bias[c]),  gelu(v) = 0.5 v (1 + erf(v / sqrt(2)))  (exact erf form,
// as BERT's "gelu" in Hugging Face; not the tanh approximation). x is [rows, cols], bias [cols].
#pragma once

#include <cstdint>

namespace bertc::ref {
void bias_gelu(float* x, const float* bias, int64_t rows, int64_t cols);
}  // namespace bertc::ref

namespace bertc::cpu {
void bias_gelu(float* x, const float* bias, int64_t rows, int64_t cols);
}  // namespace bertc::cpu
