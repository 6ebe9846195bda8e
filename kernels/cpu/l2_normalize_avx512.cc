// L2 normalization for the avx512 kernels: kernels/cpu/l2_normalize_impl.h compiled with this
// ISA's flags. Checked in tests/kernels/l2_normalize_test.cc.
#include "kernels/cpu/kernels_avx512.h"
#include "kernels/cpu/l2_normalize_impl.h"

namespace bertc::cpu::avx512 {

void l2_normalize(float* x, int64_t rows, int64_t cols) { l2_normalize_rows(x, rows, cols); }

}  // namespace bertc::cpu::avx512
