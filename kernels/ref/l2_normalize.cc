// Reference L2 normalization: the norm in double; a zero row is left as is.
#include "kernels/l2_normalize.h"

#include <cmath>

namespace bertc::ref {

void l2_normalize(float* x, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    double sum = 0;
    for (int64_t c = 0; c < cols; ++c) sum += static_cast<double>(row[c]) * row[c];
    if (sum == 0) continue;
    const double inv = 1.0 / std::sqrt(sum);
    for (int64_t c = 0; c < cols; ++c) row[c] = static_cast<float>(row[c] * inv);
  }
}

}  // namespace bertc::ref
