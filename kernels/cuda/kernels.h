// The CUDA twins of kernels/<op>.h: same names and argument order as bertc::ref / bertc::cpu, but
// templated on the element type T (float, __half, __nv_bfloat16; explicit instantiations in each
// .cu) and taking a stream. Pointers are device pointers; every reduction accumulates in fp32.
// Each launcher checks its launch (BERTC_CUDA_LAUNCH_CHECK) and never synchronizes unless
// BERTC_CUDA_SYNC=1. Checked against bertc::ref in tests/kernels/*_cuda_test.cc.
#pragma once

#include <cstdint>

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels/pooling.h"  // PoolMode

namespace bertc::cuda {

// embedding.cu: out[n,H] = LayerNorm(word[ids] + position[position_ids] + token_type[type_ids]).
// ids must already be range-checked (the Backend does it on the host at embed).
template <typename T>
void embedding(const int32_t* ids, const int32_t* type_ids, const int32_t* position_ids, int64_t n,
               const T* word, const T* position, const T* token_type, const T* gamma,
               const T* beta, float eps, int64_t hidden, T* out, cudaStream_t stream);

// gemm.cu: y[n,m] = x[n,k] · w[m,k]^T (+ bias[m] when non-null) through cuBLAS with fp32
// accumulation. For T = float the math is true fp32 unless allow_tf32. `handle` must already be
// bound to `stream` (cublasSetStream resets the workspace, so the backend binds it once).
template <typename T>
void gemm(const T* x, const T* w, const T* bias, T* y, int64_t n, int64_t m, int64_t k,
          cublasHandle_t handle, bool allow_tf32, cudaStream_t stream);

// bias_gelu.cu: x[rows,cols] = gelu_erf(x + bias[cols]), in place.
template <typename T>
void bias_gelu(T* x, const T* bias, int64_t rows, int64_t cols, cudaStream_t stream);

// layer_norm.cu: y = LayerNorm(x + bias + residual) · gamma + beta per row; y may alias
// residual. cols == 768 takes a register-resident fast path, other widths the general one.
template <typename T>
void bias_residual_layer_norm(const T* x, const T* bias, const T* residual, const T* gamma,
                              const T* beta, float eps, T* y, int64_t rows, int64_t cols,
                              cudaStream_t stream);

// attention.cu: q, k, v, out [n, NH*D] packed; per sequence b (tokens cu_seqlens[b] ..
// cu_seqlens[b+1]) and head, out = softmax(q k^T / sqrt(D)) v over that sequence's tokens only.
// cu_seqlens is a device array [num_seqs+1]; seq_len_max bounds the scores kept in shared memory.
// A tiled kernel (16 queries per block) serves sequences whose [16, seq_len_max] scores fit in
// shared memory with D <= 128 (BERT: T <= 512); a per-(token, head) kernel serves the rest.
template <typename T>
void attention(const T* q, const T* k, const T* v, T* out, const int32_t* cu_seqlens,
               int64_t num_seqs, int64_t n, int64_t seq_len_max, int64_t num_heads,
               int64_t head_dim, cudaStream_t stream);
// Largest seq_len_max attention() accepts (its scores row must fit in shared memory).
int64_t attention_seq_len_limit();

// pooling.cu: out[B,H] from hidden[N,H]: kCls (and kPooled, whose dense + tanh come after) the
// first token, kMean the mean over all of a sequence's tokens, kMax the elementwise max.
template <typename T>
void pool(const T* hidden, const int32_t* cu_seqlens, int64_t num_seqs, int64_t hidden_size,
          PoolMode mode, T* out, cudaStream_t stream);

// tanh.cu: x[n] = tanh(x), in place.
template <typename T>
void tanh(T* x, int64_t n, cudaStream_t stream);

// l2_normalize.cu: each row divided by its L2 norm; a zero row stays zero.
template <typename T>
void l2_normalize(T* x, int64_t rows, int64_t cols, cudaStream_t stream);

}  // namespace bertc::cuda
