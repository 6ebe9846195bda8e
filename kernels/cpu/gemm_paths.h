// The two CPU gemm paths behind cpu::gemm (kernels/gemm.h), exposed so that the tests and the
// benchmark can run each one. cpu::gemm picks one per process: gemm_avx512 where the CPU has
// AVX-512F (asked at run time), gemm_eigen elsewhere. Both keep the row invariance of
// kernels/gemm.h, but their bits differ from each other, so a process never mixes them.
#pragma once

#include <cstdint>

#include "kernels/bias_gelu.h"
#include "kernels/gemm.h"

namespace bertc::cpu {

// Eigen's single-threaded GEMM on fixed, zero-padded tiles spread over OpenMP threads.
void gemm_eigen(const float* x, const float* w, const float* bias, float* y, int64_t n, int64_t m,
                int64_t k, Epilogue epilogue = Epilogue::kBias);

// Handles the shapes with nothing to multiply (n or m zero: no output; k zero: y = bias or 0)
// and returns true; both paths start with it so they agree on edge cases.
inline bool gemm_degenerate(const float* bias, float* y, int64_t n, int64_t m, int64_t k,
                            Epilogue epilogue) {
  if (n != 0 && m != 0 && k != 0) return false;
  for (int64_t r = 0; r < n && k == 0; ++r)
    for (int64_t c = 0; c < m; ++c) y[r * m + c] = bias ? bias[c] : 0.0f;
  if (k == 0 && epilogue == Epilogue::kBiasGelu) gelu_block(y, m, n, m);
  return true;
}

// True when this CPU runs gemm_avx512 (AVX-512F, checked once with __builtin_cpu_supports).
bool has_avx512();

// Hand-written AVX-512 kernel on w's [out, in] rows as they are (no packing, no copy).
// Callers check has_avx512() first.
void gemm_avx512(const float* x, const float* w, const float* bias, float* y, int64_t n,
                 int64_t m, int64_t k, Epilogue epilogue = Epilogue::kBias);

}  // namespace bertc::cpu
