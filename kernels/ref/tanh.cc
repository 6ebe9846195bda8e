// Reference tanh, through double.
#include "kernels/tanh.h"

#include <cmath>

namespace bertc::ref {

void tanh(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(std::tanh(static_cast<double>(x[i])));
}

}  // namespace bertc::ref
