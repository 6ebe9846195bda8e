// CPU L2 normalization per row, in place, portable (kernels/cpu/l2_normalize_impl.h); checked
// against kernels/ref/l2_normalize.cc (1e-6).
#include "kernels/l2_normalize.h"

#include "kernels/cpu/l2_normalize_impl.h"

namespace bertc::cpu {

void l2_normalize(float* x, int64_t rows, int64_t cols) { l2_normalize_rows(x, rows, cols); }

}  // namespace bertc::cpu
