// CPU bias + exact GELU, in place, for the baseline ISA (kernels/cpu/gelu.h holds the code that
// every ISA compiles). Checked against kernels/ref/bias_gelu.cc (1e-5).
#include "kernels/bias_gelu.h"

#include "kernels/cpu/gelu.h"

namespace bertc::cpu {

void bias_gelu(float* x, const float* bias, int64_t rows, int64_t cols) {
  bias_gelu_rows(x, bias, rows, cols);
}

void gelu_block(float* x, int64_t ld, int64_t rows, int64_t cols) { gelu_rows(x, ld, rows, cols); }

}  // namespace bertc::cpu
