// LayerNorm and bias + residual + LayerNorm for the avx512 kernels: kernels/cpu/layer_norm_impl.h
// compiled with this ISA's flags. Checked in tests/kernels/layer_norm_test.cc.
#include "kernels/cpu/kernels_avx512.h"
#include "kernels/cpu/layer_norm_impl.h"

namespace bertc::cpu::avx512 {

void layer_norm(const float* x, const float* gamma, const float* beta, float eps, float* y,
                int64_t rows, int64_t cols) {
  layer_norm_rows(x, gamma, beta, eps, y, rows, cols);
}

void bias_residual_layer_norm(const float* x, const float* bias, const float* residual,
                              const float* gamma, const float* beta, float eps, float* y,
                              int64_t rows, int64_t cols) {
  bias_residual_layer_norm_rows(x, bias, residual, gamma, beta, eps, y, rows, cols);
}

}  // namespace bertc::cpu::avx512
