// bias + exact GELU for the avx2 kernels: kernels/cpu/gelu.h compiled with this ISA's flags.
// Checked against kernels/ref/bias_gelu.cc in tests/kernels/bias_gelu_test.cc.
#include "kernels/cpu/gelu.h"
#include "kernels/cpu/kernels_avx2.h"

namespace bertc::cpu::avx2 {

void bias_gelu(float* x, const float* bias, int64_t rows, int64_t cols) {
  bias_gelu_rows(x, bias, rows, cols);
}

void gelu_block(float* x, int64_t ld, int64_t rows, int64_t cols) { gelu_rows(x, ld, rows, cols); }

}  // namespace bertc::cpu::avx2
