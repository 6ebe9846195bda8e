// The AVX-512 kernels (files kernels/cpu/*_avx512.cc, compiled with -mavx512f/bw/vl/dq): each has
// the signature of the bertc::cpu function of the same name (kernels/<op>.h) and runs only where
// kernels/cpu/cpu_plan.cc put it in a table, i.e. on a CPU with AVX-512 F/BW/VL/DQ.
#pragma once

#include <cstdint>

#include "kernels/gemm.h"     // Epilogue
#include "kernels/pooling.h"  // PoolMode

namespace bertc::cpu::avx512 {

// w in panels of 32 columns x k (gemm_packed_avx512.cc).
int64_t gemm_packed_floats(int64_t m, int64_t k);
void gemm_pack(const float* w, int64_t m, int64_t k, float* packed);
void gemm_packed(const float* x, const float* packed, const float* bias, float* y, int64_t n,
                 int64_t m, int64_t k, Epilogue epilogue);

// bf16 weights packed by bertc::gemm_bf16_pack (gemm_bf16_avx512.cc). gemm_bf16 issues VDPBF16PS:
// only on CPUs with AVX512-BF16. gemm_bf16_widened widens x and w to fp32 (any AVX-512 CPU).
void gemm_bf16(const float* x, const uint16_t* w_packed, const float* bias, float* y, int64_t n,
               int64_t m, int64_t k, Epilogue epilogue);
void gemm_bf16_widened(const float* x, const uint16_t* w_packed, const float* bias, float* y,
                       int64_t n, int64_t m, int64_t k, Epilogue epilogue);

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
// Scratch as cpu::attention_scratch_floats.
void attention(const float* q, const float* k, const float* v, float* out,
               const int32_t* cu_seqlens, int64_t num_seqs, int64_t num_heads, int64_t head_dim,
               float* scratch);
void pool(const float* hidden, const int32_t* cu_seqlens, int64_t num_seqs, int64_t hidden_size,
          PoolMode mode, float* out);
void l2_normalize(float* x, int64_t rows, int64_t cols);
void topk(const float* matrix, int64_t rows, int64_t dim, const float* queries, int64_t num_queries,
          int64_t k, int64_t* out_index, float* out_score, int threads);
void topk_f16(const uint16_t* matrix, int64_t rows, int64_t dim, const float* queries,
              int64_t num_queries, int64_t k, int64_t* out_index, float* out_score, int threads);

}  // namespace bertc::cpu::avx512
