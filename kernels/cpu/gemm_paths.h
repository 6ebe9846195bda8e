// The two CPU gemm paths behind cpu::gemm (kernels/gemm.h), exposed so that the tests and the
// benchmark can run each one. cpu::gemm picks one per process: gemm_avx512 where the CPU has
// AVX-512F (asked at run time), gemm_eigen elsewhere. Both keep the row invariance of
// kernels/gemm.h, but their bits differ from each other, so a process never mixes them.
#pragma once

#include <cstdint>

namespace bertc::cpu {

// Eigen's single-threaded GEMM on fixed, zero-padded tiles spread over OpenMP threads.
void gemm_eigen(const float* x, const float* w, const float* bias, float* y, int64_t n, int64_t m,
                int64_t k);

// True when this CPU runs gemm_avx512 (AVX-512F, checked once with __builtin_cpu_supports).
bool has_avx512();

// Hand-written AVX-512 kernel on w's [out, in] rows as they are (no packing, no copy).
// Callers check has_avx512() first.
void gemm_avx512(const float* x, const float* w, const float* bias, float* y, int64_t n,
                 int64_t m, int64_t k);

}  // namespace bertc::cpu
