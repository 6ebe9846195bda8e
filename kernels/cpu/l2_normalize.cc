// CPU L2 normalization per row, in place; checked against kernels/ref/l2_normalize.cc (1e-6).
#include "kernels/l2_normalize.h"

#include <cmath>

#include "kernels/cpu/vec.h"

namespace bertc::cpu {

void l2_normalize(float* x, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols >= kMinParallelFloats)
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    const float sum = row_dot(row, row, cols);
    if (sum == 0.0f) continue;  // a zero row has no direction: keep it zero rather than NaN
    const float inv = 1.0f / std::sqrt(sum);
    for (int64_t c = 0; c < cols; ++c) row[c] *= inv;
  }
}

}  // namespace bertc::cpu
