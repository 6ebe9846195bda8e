// gemm: the dense layers. y[n, m] = x[n, k] · w[m, k]^T (+ bias[m] when bias is non-null).
// w keeps Hugging Face's [out, in] layout, so no weight is ever transposed or copied.
// Row r of y depends only on row r of x (never on n or on the other rows, nor on the thread
// count): bertc requires a text to embed to the same bits alone or inside any batch.
// n == 0 writes nothing; k == 0 gives y = bias (or 0).
#pragma once

#include <cstdint>

namespace bertc::ref {
void gemm(const float* x, const float* w, const float* bias, float* y, int64_t n, int64_t m,
          int64_t k);
}  // namespace bertc::ref

namespace bertc::cpu {
void gemm(const float* x, const float* w, const float* bias, float* y, int64_t n, int64_t m,
          int64_t k);
}  // namespace bertc::cpu
