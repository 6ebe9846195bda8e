// Attention on tensor cores through cuBLAS over the packed batch: per chunk of sequences, S = Q K^T
// and O = P V as batched GEMMs over pointer arrays (one window of rows per sequence and head),
// around one fused mask + softmax kernel; see kernels.h. Checked against bertc::ref::attention in
// tests/kernels/attention_cuda_test.cc (every path, mixed lengths, D = 32 and 64).
#include <algorithm>
#include <type_traits>

#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace bertc::cuda {
namespace {

constexpr size_t kScratchAlign = 256;
constexpr int kRowsPerBlock = 4;  // one warp per score row
constexpr int kThreads = 128;

size_t align_up(size_t n) { return (n + kScratchAlign - 1) / kScratchAlign * kScratchAlign; }

// Where one chunk's pieces sit in the scratch (byte offsets).
struct ScratchLayout {
  size_t info, pointers, s, p, o, total;
};

ScratchLayout layout(int64_t entries, int64_t num_heads, int64_t window, int64_t head_dim,
                     size_t elem_bytes) {
  const auto eh = static_cast<size_t>(entries * num_heads);
  const auto w = static_cast<size_t>(window);
  ScratchLayout l{};
  l.info = 0;                                                   // [entries] {begin, len, win}
  l.pointers = align_up(l.info + static_cast<size_t>(entries) * 3 * sizeof(int32_t));
  l.s = align_up(l.pointers + 6 * eh * sizeof(void*));          // [eh, w, w] fp32 scores
  l.p = align_up(l.s + eh * w * w * sizeof(float));             // [eh, w, w] probabilities
  l.o = align_up(l.p + eh * w * w * elem_bytes);                // [eh, w, D] padded output
  l.total = align_up(l.o + eh * w * static_cast<size_t>(head_dim) * elem_bytes);
  return l;
}

int64_t round_up8(int64_t v) { return (v + 7) / 8 * 8; }

// One thread per (entry, head): the six pointer arrays of the two batched GEMMs and, from head 0,
// the entry's {begin, len, window start}. Entry e is sequence order[first + e] (sequences sorted
// by length, so a chunk pads little); its window starts at min(begin, n - window), so it never
// reads past the batch (rows outside the sequence are other sequences' tokens, masked below).
template <typename T>
__global__ void attention_gemm_setup_kernel(const T* q, const T* k, const T* v,
                                            const int32_t* __restrict__ cu_seqlens,
                                            const int32_t* __restrict__ order, int first,
                                            int entries, int num_heads, int head_dim, int window,
                                            int n, int32_t* info, void** ptrs, float* s,
                                            T* p, T* o) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= entries * num_heads) return;
  const int e = i / num_heads, h = i - e * num_heads;
  const int seq = order[first + e];
  const int begin = cu_seqlens[seq], len = cu_seqlens[seq + 1] - begin;
  const int win = min(begin, n - window);
  if (h == 0) {
    info[3 * e] = begin;
    info[3 * e + 1] = len;
    info[3 * e + 2] = win;
  }
  const int64_t hidden = int64_t{num_heads} * head_dim;
  const int64_t row0 = int64_t{win} * hidden + int64_t{h} * head_dim;
  const int64_t eh = entries * num_heads;
  const int64_t ww = int64_t{window} * window;
  // cuBLAS takes every array as void*; the q, k, v ones are only read.
  ptrs[i] = const_cast<T*>(k + row0);                     // S-GEMM A
  ptrs[eh + i] = const_cast<T*>(q + row0);                // S-GEMM B
  ptrs[2 * eh + i] = s + i * ww;                          // S-GEMM C
  ptrs[3 * eh + i] = const_cast<T*>(v + row0);            // PV-GEMM A
  ptrs[4 * eh + i] = p + i * ww;                          // PV-GEMM B
  ptrs[5 * eh + i] = o + int64_t{i} * window * head_dim;  // PV-GEMM C
}

// grid (entry * head, row blocks): warp r of a block takes window row blockIdx.y * 4 + r. Rows and
// columns outside the entry's sequence get p = 0; inside, p = softmax over the sequence's keys
// (the scale is already in S), from fp32 scores, max-shifted.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    attention_gemm_softmax_kernel(const float* __restrict__ s, T* __restrict__ p,
                                  const int32_t* __restrict__ info, int num_heads, int window) {
  const int row = blockIdx.y * kRowsPerBlock + (threadIdx.x >> 5);
  if (row >= window) return;
  const int lane = threadIdx.x & 31;
  const int eh = blockIdx.x;
  const int e = eh / num_heads;
  const int begin = info[3 * e], len = info[3 * e + 1], win = info[3 * e + 2];
  const int lo = begin - win, hi = lo + len;  // the sequence's rows and columns in the window
  const int64_t offset = (int64_t{eh} * window + row) * window;
  const float* srow = s + offset;
  T* prow = p + offset;
  if (row < lo || row >= hi) {
    for (int j = lane; j < window; j += 32) prow[j] = from_float<T>(0.0f);
    return;
  }
  float row_max = -INFINITY;
  for (int j = lo + lane; j < hi; j += 32) row_max = fmaxf(row_max, srow[j]);
  row_max = warp_max(row_max);
  float sum = 0.0f;
  for (int j = lo + lane; j < hi; j += 32) sum += expf(srow[j] - row_max);
  const float inv_sum = 1.0f / warp_sum(sum);  // >= 1 term of exp(0) = 1: never 0
  for (int j = lane; j < window; j += 32) {
    const float pj = j >= lo && j < hi ? expf(srow[j] - row_max) * inv_sum : 0.0f;
    prow[j] = from_float<T>(pj);
  }
}

// grid (entries, window rows): row r of entry e, when inside its sequence, is token win + r; its
// NH heads of D values go from the padded O [e, h, r, :] to out [token, h * D ..], 16 bytes at a
// time (the plan requires D and H to be whole vectors).
template <typename T>
__global__ void __launch_bounds__(kThreads)
    attention_gemm_unpad_kernel(const T* __restrict__ o, T* __restrict__ out,
                                const int32_t* __restrict__ info, int num_heads, int head_dim,
                                int window) {
  constexpr int kSize = Vec16<T>::kSize;
  const int e = blockIdx.x, row = blockIdx.y;
  const int begin = info[3 * e], len = info[3 * e + 1], win = info[3 * e + 2];
  if (row < begin - win || row >= begin - win + len) return;
  const int vecs_per_head = head_dim / kSize;
  const int64_t token = win + row;
  const int64_t hidden = int64_t{num_heads} * head_dim;
  for (int u = threadIdx.x; u < num_heads * vecs_per_head; u += blockDim.x) {
    const int h = u / vecs_per_head, dv = u - h * vecs_per_head;
    const Vec16<T> val = *reinterpret_cast<const Vec16<T>*>(
        o + ((int64_t{e} * num_heads + h) * window + row) * head_dim + dv * kSize);
    *reinterpret_cast<Vec16<T>*>(out + token * hidden + h * head_dim + dv * kSize) = val;
  }
}

}  // namespace

size_t attention_gemm_scratch_bytes(const AttentionGemmChunk& chunk, int64_t num_heads,
                                    int64_t head_dim, size_t elem_bytes) {
  return layout(chunk.num_seqs, num_heads, chunk.window, head_dim, elem_bytes).total;
}

bool attention_gemm_plan(const int32_t* sorted_lengths, int64_t num_seqs, int64_t n,
                         int64_t num_heads, int64_t head_dim, size_t elem_bytes,
                         size_t scratch_bytes, std::vector<AttentionGemmChunk>& chunks) {
  chunks.clear();
  // Every pointer the GEMMs get is then 16-byte aligned (with a window a multiple of 8).
  if ((head_dim * elem_bytes) % 16 != 0) return false;
  if (num_seqs > 0x7fffffff / 2 || n > 0x7fffffff || num_heads > 65535) return false;
  int64_t s = 0;
  while (s < num_seqs) {
    AttentionGemmChunk c;
    c.first_seq = static_cast<int32_t>(s);
    c.num_seqs = 1;
    int64_t max_len = sorted_lengths[s];
    int64_t sum_sq = max_len * max_len;  // scores a chunk must compute, per head
    c.window = static_cast<int32_t>(round_up8(max_len));
    if (c.window > n || attention_gemm_scratch_bytes(c, num_heads, head_dim, elem_bytes) > scratch_bytes)
      return false;
    for (int64_t e = s + 1; e < num_seqs; ++e) {
      const int64_t len = sorted_lengths[e];
      AttentionGemmChunk grown = c;
      grown.num_seqs = c.num_seqs + 1;
      grown.window = static_cast<int32_t>(round_up8(std::max(max_len, len)));
      const int64_t padded = int64_t{grown.num_seqs} * grown.window * grown.window;
      // Another chunk costs a few launches; padding costs bytes of scores. Grow while the
      // padding stays below the real work (or below a 256 x 256 window's worth).
      if (grown.window > n || padded - (sum_sq + len * len) > std::max<int64_t>(sum_sq + len * len, 65536) ||
          attention_gemm_scratch_bytes(grown, num_heads, head_dim, elem_bytes) > scratch_bytes)
        break;
      c = grown;
      max_len = std::max(max_len, len);
      sum_sq += len * len;
    }
    chunks.push_back(c);
    s += c.num_seqs;
  }
  return true;
}

template <typename T>
void attention_gemm(const T* q, const T* k, const T* v, T* out, const int32_t* cu_seqlens,
                    const int32_t* order, int64_t n, int64_t num_heads, int64_t head_dim,
                    const std::vector<AttentionGemmChunk>& chunks, void* scratch,
                    cublasHandle_t handle, bool allow_tf32, cudaStream_t stream) {
  const cublasComputeType_t compute =
      std::is_same_v<T, float> && allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  const float scale = 1.0f / sqrtf(static_cast<float>(head_dim));
  const float one = 1.0f, zero = 0.0f;
  const int ld = static_cast<int>(num_heads * head_dim);
  char* base = static_cast<char*>(scratch);
  for (const AttentionGemmChunk& c : chunks) {
    const ScratchLayout l = layout(c.num_seqs, num_heads, c.window, head_dim, sizeof(T));
    auto* info = reinterpret_cast<int32_t*>(base + l.info);
    auto* ptrs = reinterpret_cast<void**>(base + l.pointers);
    auto* s = reinterpret_cast<float*>(base + l.s);
    auto* p = reinterpret_cast<T*>(base + l.p);
    auto* o = reinterpret_cast<T*>(base + l.o);
    const int eh = static_cast<int>(c.num_seqs * num_heads);
    attention_gemm_setup_kernel<T><<<(eh + kThreads - 1) / kThreads, kThreads, 0, stream>>>(
        q, k, v, cu_seqlens, order, c.first_seq, c.num_seqs, static_cast<int>(num_heads),
        static_cast<int>(head_dim), c.window, static_cast<int>(n), info, ptrs, s, p, o);
    BERTC_CUDA_LAUNCH_CHECK(stream, "attention_gemm_setup_kernel");
    // Column-major, as in gemm.cu: row-major S[i][j] = q_i · k_j is column-major S^T = K Q^T,
    // A = K (row-major [w, D], ld NH*D: op T), B = Q (op N), C = S with ld w; alpha = the scale.
    CUBLAS_CHECK(cublasGemmBatchedEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, c.window, c.window,
                                     static_cast<int>(head_dim), &scale, ptrs, kCudaType<T>, ld,
                                     ptrs + eh, kCudaType<T>, ld, &zero,
                                     ptrs + 2 * eh, CUDA_R_32F,
                                     c.window, eh, compute, CUBLAS_GEMM_DEFAULT));
    if (sync_after_launch()) CUDA_CHECK(cudaStreamSynchronize(stream));
    const dim3 softmax_grid(static_cast<unsigned>(eh),
                            static_cast<unsigned>((c.window + kRowsPerBlock - 1) / kRowsPerBlock));
    attention_gemm_softmax_kernel<T><<<softmax_grid, kThreads, 0, stream>>>(
        s, p, info, static_cast<int>(num_heads), c.window);
    BERTC_CUDA_LAUNCH_CHECK(stream, "attention_gemm_softmax_kernel");
    // Row-major O[w, D] = P[w, w] V[w, D] is column-major O^T = V^T P^T: A = V (op N, ld NH*D),
    // B = P (op N, ld w), C = O (ld D).
    CUBLAS_CHECK(cublasGemmBatchedEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(head_dim),
                                     c.window, c.window, &one, ptrs + 3 * eh, kCudaType<T>, ld,
                                     ptrs + 4 * eh, kCudaType<T>, c.window, &zero,
                                     ptrs + 5 * eh, kCudaType<T>,
                                     static_cast<int>(head_dim), eh, compute, CUBLAS_GEMM_DEFAULT));
    if (sync_after_launch()) CUDA_CHECK(cudaStreamSynchronize(stream));
    const dim3 unpad_grid(static_cast<unsigned>(c.num_seqs), static_cast<unsigned>(c.window));
    attention_gemm_unpad_kernel<T><<<unpad_grid, kThreads, 0, stream>>>(
        o, out, info, static_cast<int>(num_heads), static_cast<int>(head_dim), c.window);
    BERTC_CUDA_LAUNCH_CHECK(stream, "attention_gemm_unpad_kernel");
  }
}

#define BERTC_INSTANTIATE_ATTENTION_GEMM(T)                                                     \
  template void attention_gemm<T>(const T*, const T*, const T*, T*, const int32_t*,            \
                                  const int32_t*, int64_t, int64_t, int64_t,                   \
                                  const std::vector<AttentionGemmChunk>&, void*, cublasHandle_t, \
                                  bool, cudaStream_t);
BERTC_CUDA_INSTANTIATE(BERTC_INSTANTIATE_ATTENTION_GEMM)

}  // namespace bertc::cuda
