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
// x[r * ld + c] = gelu(x[r * ld + c]) on a [rows, cols] block, on the calling thread: the epilogue
// the gemms run on a block of y while it is still in cache (kernels/gemm.h, Epilogue::kBiasGelu).
// The same bits as bias_gelu with a zero bias.
void gelu_block(float* x, int64_t ld, int64_t rows, int64_t cols);
}  // namespace bertc::cpu
