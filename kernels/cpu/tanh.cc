// CPU tanh in place: std::tanh per element. It only runs on the pooler's [B, H], so exactness
// beats a vectorized approximation. Checked against kernels/ref/tanh.cc (1e-6).
#include "kernels/tanh.h"

#include <cmath>

#include "kernels/cpu/vec.h"

namespace bertc::cpu {

void tanh(float* x, int64_t n) {
  // A libm tanh costs ~20 streaming elements, hence the lower threshold for a thread team.
#pragma omp parallel for schedule(static) if (n >= kMinParallelFloats / 16)
  for (int64_t i = 0; i < n; ++i) x[i] = std::tanh(x[i]);
}

}  // namespace bertc::cpu
