// LayerNorm and fused bias + residual + LayerNorm (kernels/layer_norm.h), one row per iteration.
// Compiled into each file that includes it, for that file's ISA and in its BERTC_ISA_NS
// (isa_ns.h): layer_norm.cc (the portable kernel) and layer_norm_<isa>.cc.
#pragma once

#include <cstdint>

#include "kernels/cpu/isa_ns.h"
#include "kernels/cpu/vec.h"

namespace bertc::cpu {
inline namespace BERTC_ISA_NS {

inline void layer_norm_rows(const float* x, const float* gamma, const float* beta, float eps,
                            float* y, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols >= kMinParallelFloats)
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * cols;
    float* out = y + r * cols;
    for (int64_t c = 0; c < cols; ++c) out[c] = in[c];
    layer_norm_row(out, gamma, beta, eps, cols);
  }
}

inline void bias_residual_layer_norm_rows(const float* x, const float* bias,
                                          const float* residual, const float* gamma,
                                          const float* beta, float eps, float* y, int64_t rows,
                                          int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols >= kMinParallelFloats)
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * cols;
    const float* res = residual + r * cols;
    float* out = y + r * cols;  // may be res: each element is read before it is written
    for (int64_t c = 0; c < cols; ++c) out[c] = in[c] + bias[c] + res[c];
    layer_norm_row(out, gamma, beta, eps, cols);
  }
}

}  // namespace BERTC_ISA_NS
}  // namespace bertc::cpu
