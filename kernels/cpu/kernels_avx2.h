// The AVX2 kernels (files kernels/cpu/*_avx2.cc, compiled with -mavx2 -mfma -mf16c): each has the
// signature of the bertc::cpu function of the same name (kernels/<op>.h) and runs only where
// kernels/cpu/cpu_plan.cc put it in a table, i.e. on a CPU with AVX2, FMA and F16C.
#pragma once

#include <cstdint>

#include "kernels/pooling.h"  // PoolMode

namespace bertc::cpu::avx2 {

// The portable row kernels compiled for AVX2 (kernels/cpu/<op>_impl.h, gelu.h).
void bias_gelu(float* x, const float* bias, int64_t rows, int64_t cols);
void gelu_block(float* x, int64_t ld, int64_t rows, int64_t cols);
void layer_norm(const float* x, const float* gamma, const float* beta, float eps, float* y,
                int64_t rows, int64_t cols);
void bias_residual_layer_norm(const float* x, const float* bias, const float* residual,
                              const float* gamma, const float* beta, float eps, float* y,
                              int64_t rows, int64_t cols);
void embedding(const int32_t* ids, const int32_t* type_ids, const int32_t* position_ids, int64_t n,
               const float* word, const float* position, const float* token_type,
               const float* gamma, const float* beta, float eps, int64_t hidden, float* out);
void pool(const float* hidden, const int32_t* cu_seqlens, int64_t num_seqs, int64_t hidden_size,
          PoolMode mode, float* out);
void l2_normalize(float* x, int64_t rows, int64_t cols);

}  // namespace bertc::cpu::avx2
