// Embedding gather (word + position + token type) fused with LayerNorm; checked against
// bertc::ref::embedding in tests/kernels/embedding_cuda_test.cc. Like layer_norm.cu: rows of
// whole 16-byte vectors up to 2048 halves / 1024 floats take one warp per token with the row in
// registers; other widths one block per token with the row in shared memory.
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace bertc::cuda {
namespace {

constexpr int kWarpsPerBlock = 4;

template <typename T, int kVecs>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    embedding_warp_kernel(const int32_t* __restrict__ ids, const int32_t* __restrict__ type_ids,
                          const int32_t* __restrict__ position_ids, int64_t n,
                          const T* __restrict__ word, const T* __restrict__ position,
                          const T* __restrict__ token_type, const T* __restrict__ gamma,
                          const T* __restrict__ beta, float eps, int hidden,
                          T* __restrict__ out) {
  constexpr int kSize = Vec16<T>::kSize;
  const int64_t token = int64_t{blockIdx.x} * kWarpsPerBlock + (threadIdx.x >> 5);
  if (token >= n) return;
  const int lane = threadIdx.x & 31;
  const int vecs = hidden / kSize;
  const T* w = word + int64_t{ids[token]} * hidden;
  const T* p = position + int64_t{position_ids[token]} * hidden;
  const T* t = token_type + int64_t{type_ids[token]} * hidden;
  float v[kVecs][kSize];
#pragma unroll
  for (int i = 0; i < kVecs; ++i) {
    const int c = (lane + 32 * i) * kSize;
    if (lane + 32 * i < vecs) {
      float a[kSize], b[kSize], d[kSize];
      load_vec(w + c, a);
      load_vec(p + c, b);
      load_vec(t + c, d);
#pragma unroll
      for (int j = 0; j < kSize; ++j) v[i][j] = a[j] + b[j] + d[j];
    } else {
#pragma unroll
      for (int j = 0; j < kSize; ++j) v[i][j] = 0.0f;
    }
  }
  warp_layer_norm_row<T, kVecs>(v, vecs, hidden, gamma, beta, eps, out + token * hidden);
}

template <typename T>
__global__ void embedding_kernel(const int32_t* __restrict__ ids,
                                 const int32_t* __restrict__ type_ids,
                                 const int32_t* __restrict__ position_ids,
                                 const T* __restrict__ word, const T* __restrict__ position,
                                 const T* __restrict__ token_type, const T* __restrict__ gamma,
                                 const T* __restrict__ beta, float eps, int64_t hidden,
                                 T* __restrict__ out) {
  extern __shared__ float row[];  // [hidden]
  __shared__ float scratch[kBlockScratchFloats];
  const int64_t token = blockIdx.x;
  const T* w = word + ids[token] * hidden;
  const T* p = position + position_ids[token] * hidden;
  const T* t = token_type + type_ids[token] * hidden;
  for (int64_t c = threadIdx.x; c < hidden; c += blockDim.x)
    row[c] = to_float(w[c]) + to_float(p[c]) + to_float(t[c]);
  __syncthreads();
  layer_norm_row(row, hidden, gamma, beta, eps, out + token * hidden, scratch);
}

}  // namespace

template <typename T>
void embedding(const int32_t* ids, const int32_t* type_ids, const int32_t* position_ids, int64_t n,
               const T* word, const T* position, const T* token_type, const T* gamma,
               const T* beta, float eps, int64_t hidden, T* out, cudaStream_t stream) {
  if (n == 0 || hidden == 0) return;
  constexpr int kSize = Vec16<T>::kSize;
  const bool vectors = hidden % kSize == 0 && aligned16(word) && aligned16(position) &&
                       aligned16(token_type) && aligned16(gamma) && aligned16(beta) &&
                       aligned16(out);
  if (vectors && n <= int64_t{0x7fffffff} * kWarpsPerBlock &&
      dispatch_warp_row(hidden / kSize, [&]<int kVecs>() {
        const auto grid = static_cast<unsigned>((n + kWarpsPerBlock - 1) / kWarpsPerBlock);
        embedding_warp_kernel<T, kVecs><<<grid, kWarpsPerBlock * 32, 0, stream>>>(
            ids, type_ids, position_ids, n, word, position, token_type, gamma, beta, eps,
            static_cast<int>(hidden), out);
        BERTC_CUDA_LAUNCH_CHECK(stream, "embedding_warp_kernel");
      })) {
    return;
  }
  BERTC_CHECK(n <= 0x7fffffff, "embedding: ", n, " tokens exceed the CUDA grid");
  BERTC_CHECK(hidden <= kLayerNormMaxCols, "embedding: hidden size ", hidden,
              " exceeds the CUDA kernel's limit of ", kLayerNormMaxCols);
  const int threads = hidden >= 256 ? 256 : 32 * static_cast<int>((hidden + 31) / 32);
  embedding_kernel<T><<<static_cast<unsigned>(n), threads, hidden * sizeof(float), stream>>>(
      ids, type_ids, position_ids, word, position, token_type, gamma, beta, eps, hidden, out);
  BERTC_CUDA_LAUNCH_CHECK(stream, "embedding_kernel");
}

#define BERTC_INSTANTIATE_EMBEDDING(T)                                                          \
  template void embedding<T>(const int32_t*, const int32_t*, const int32_t*, int64_t, const T*, \
                             const T*, const T*, const T*, const T*, float, int64_t, T*,        \
                             cudaStream_t);
BERTC_CUDA_INSTANTIATE(BERTC_INSTANTIATE_EMBEDDING)

}  // namespace bertc::cuda
