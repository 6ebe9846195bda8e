// L2 normalization per row, in place (kernels/l2_normalize.h).
// Compiled into each file that includes it, for that file's ISA and in its BERTC_ISA_NS
// (isa_ns.h): l2_normalize.cc (the portable kernel) and l2_normalize_<isa>.cc.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/cpu/isa_ns.h"
#include "kernels/cpu/vec.h"

namespace bertc::cpu {
inline namespace BERTC_ISA_NS {

inline void l2_normalize_rows(float* x, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols >= kMinParallelFloats)
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    const float sum = row_dot(row, row, cols);
    if (sum == 0.0f) continue;  // a zero row has no direction: keep it zero rather than NaN
    const float inv = 1.0f / std::sqrt(sum);
    for (int64_t c = 0; c < cols; ++c) row[c] *= inv;
  }
}

}  // namespace BERTC_ISA_NS
}  // namespace bertc::cpu
