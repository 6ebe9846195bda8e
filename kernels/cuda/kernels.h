// The CUDA twins of kernels/<op>.h: same names and argument order as bertc::ref / bertc::cpu, but
// templated on the element type T (float, __half, __nv_bfloat16; explicit instantiations in each
// .cu) and taking a stream. Pointers are device pointers; every reduction accumulates in fp32.
// Each launcher checks its launch (BERTC_CUDA_LAUNCH_CHECK) and never synchronizes unless
// BERTC_CUDA_SYNC=1. Checked against bertc::ref in tests/kernels/*_cuda_test.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include <cublasLt.h>
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

// gemm.cu: y[n,m] = x[n,k] · w[m,k]^T (+ bias[m] when non-null) through cublasGemmEx with fp32
// accumulation, the bias broadcast into y first and added with beta = 1. For T = float the math
// is true fp32 unless allow_tf32. `handle` must already be bound to `stream` (cublasSetStream
// resets the workspace, so the backend binds it once). The reference path: GemmLt below is the
// fast one, and falls back to this where cuBLASLt offers no algorithm.
template <typename T>
void gemm(const T* x, const T* w, const T* bias, T* y, int64_t n, int64_t m, int64_t k,
          cublasHandle_t handle, bool allow_tf32, cudaStream_t stream);

// gemm_lt.cu: the same product through cuBLASLt, `batch` times over weights, biases and outputs
// `*_stride` elements apart and one shared x (batch 3: the Q, K and V projections in one
// launch): y_b[n,m] = x[n,k] · w_b[m,k]^T + bias_b[m], the bias added in the epilogue, in fp32,
// before y is rounded once. A plan (descriptors, layouts, the heuristic's algorithm) is made
// once per shape, strides and pointer alignment and kept. run() returns false, having launched
// nothing, when cuBLASLt has no algorithm for the case: the caller then uses gemm().
class GemmLt {
 public:
  // `workspace` (device memory, workspace_bytes) is used by every run on the caller's stream.
  GemmLt(void* workspace, size_t workspace_bytes);
  ~GemmLt();
  GemmLt(const GemmLt&) = delete;
  GemmLt& operator=(const GemmLt&) = delete;

  template <typename T>
  bool run(const T* x, const T* w, const T* bias, T* y, int64_t n, int64_t m, int64_t k,
           int batch, int64_t w_stride, int64_t bias_stride, int64_t y_stride, bool allow_tf32,
           cudaStream_t stream);

 private:
  struct Plan;
  // dtype, n, m, k, batch, w/bias/y strides, bias?, tf32, alignment of x, w, y (log2 bytes)
  using Key = std::tuple<int, int64_t, int64_t, int64_t, int, int64_t, int64_t, int64_t, bool,
                         bool, int, int, int>;
  Plan& plan(const Key& key, cudaDataType_t type);

  cublasLtHandle_t handle_ = nullptr;
  void* workspace_;
  size_t workspace_bytes_;
  std::map<Key, std::unique_ptr<Plan>> plans_;
};

// bias_gelu.cu: x[rows,cols] = gelu_erf(x + bias[cols]), in place; bias may be null (GELU only,
// after a GEMM that added the bias in its epilogue).
template <typename T>
void bias_gelu(T* x, const T* bias, int64_t rows, int64_t cols, cudaStream_t stream);

// layer_norm.cu: y = LayerNorm(x + bias + residual) · gamma + beta per row; y may alias
// residual. Rows of whole 16-byte vectors up to 2048 halves / 1024 floats take a warp-per-row
// path with the row in registers, other widths (up to kLayerNormMaxCols) a block per row.
template <typename T>
void bias_residual_layer_norm(const T* x, const T* bias, const T* residual, const T* gamma,
                              const T* beta, float eps, T* y, int64_t rows, int64_t cols,
                              cudaStream_t stream);

// ---- attention: q, k, v, out [n, NH*D] packed; per sequence b (tokens cu_seqlens[b] ..
// cu_seqlens[b+1]) and head, out = softmax(q k^T / sqrt(D)) v over that sequence's tokens only.
// cu_seqlens is a device array [num_seqs+1]. Three implementations, chosen by the backend:

// attention.cu, the fp32 SIMT reference kernels: a tiled kernel (16 queries per block) for
// sequences of at most attention_simt_tiled_len_limit(D) tokens, a per-(token, head) kernel for
// longer ones, chosen per sequence, so a sequence gives the same bits alone or in any batch.
// seq_len_max bounds the scores kept in shared memory.
template <typename T>
void attention_simt(const T* q, const T* k, const T* v, T* out, const int32_t* cu_seqlens,
                    int64_t num_seqs, int64_t n, int64_t seq_len_max, int64_t num_heads,
                    int64_t head_dim, cudaStream_t stream);
// Largest seq_len_max attention_simt() accepts (the per-token scores row in shared memory).
int64_t attention_seq_len_limit();
// The longest sequence the tiled SIMT kernel takes at head dim D (0 when D > 128).
int64_t attention_simt_tiled_len_limit(int64_t head_dim);

// attention_gemm.cu: tensor cores through cuBLAS. The sequences, in `order` (the batch's sequence
// indices sorted by length, so neighbours need similar windows), are taken in chunks: runs cut
// where padding to the longest would cost more than the real work, or the scratch would
// overflow. Per chunk and head: S = Q K^T · scale (fp32) over a window of `window` rows around
// each sequence (batched GEMM over pointer arrays), one kernel for mask + softmax (P in T, zero
// outside the sequence), O = P V (batched GEMM) into a padded buffer, and one kernel that copies
// each sequence's rows of O into out. Results agree with the reference to rounding, but are not
// bitwise batch-invariant: cuBLAS may pick another kernel for another window or batch count.
struct AttentionGemmChunk {
  int32_t first_seq = 0, num_seqs = 0;  // entries [first_seq, first_seq + num_seqs) of `order`
  int32_t window = 0;                   // rows per window: >= each length, a multiple of 8, <= n
};
// Bytes of scratch one chunk needs, 256-byte aligned (entry info, pointer arrays, S, P, padded O).
size_t attention_gemm_scratch_bytes(const AttentionGemmChunk& chunk, int64_t num_heads,
                                    int64_t head_dim, size_t elem_bytes);
// Splits a batch (host lengths in `order`, n tokens) into chunks whose scratch fits in
// scratch_bytes. Returns false when the shape does not suit this path (a window would pass the
// end of the batch, a head is not a whole number of 16-byte vectors, or one sequence alone does
// not fit): the caller then uses another path. q, k, v, out and scratch must be 16-byte aligned.
bool attention_gemm_plan(const int32_t* sorted_lengths, int64_t num_seqs, int64_t n,
                         int64_t num_heads, int64_t head_dim, size_t elem_bytes,
                         size_t scratch_bytes, std::vector<AttentionGemmChunk>& chunks);
template <typename T>
void attention_gemm(const T* q, const T* k, const T* v, T* out, const int32_t* cu_seqlens,
                    const int32_t* order, int64_t n, int64_t num_heads, int64_t head_dim,
                    const std::vector<AttentionGemmChunk>& chunks, void* scratch,
                    cublasHandle_t handle, bool allow_tf32, cudaStream_t stream);

// attention_flash.cu: one fused kernel on tensor cores (mma.sync m16n8k16, f16/bf16 in, fp32
// accumulation) in the style of FlashAttention-2: 64 queries of one sequence and head per block,
// keys and values in tiles of 64 through shared memory (cp.async, double-buffered), an online
// softmax in registers; scores never reach memory. Each block reads only its own sequence, in a
// fixed order, so a sequence gives the same bits alone or in any batch.
bool attention_flash_supported(int64_t head_dim, size_t elem_bytes);  // D = 32 or 64, 16-bit T
template <typename T>
void attention_flash(const T* q, const T* k, const T* v, T* out, const int32_t* cu_seqlens,
                     int64_t num_seqs, int64_t seq_len_max, int64_t num_heads, int64_t head_dim,
                     cudaStream_t stream);

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
