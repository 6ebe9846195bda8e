// Embedding gather (word + position + token type) fused with LayerNorm, one block per token;
// checked against bertc::ref::embedding in tests/kernels/embedding_cuda_test.cc.
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace bertc::cuda {
namespace {

template <typename T>
__global__ void embedding_kernel(const int32_t* __restrict__ ids,
                                 const int32_t* __restrict__ type_ids,
                                 const int32_t* __restrict__ position_ids,
                                 const T* __restrict__ word, const T* __restrict__ position,
                                 const T* __restrict__ token_type, const T* __restrict__ gamma,
                                 const T* __restrict__ beta, float eps, int64_t hidden,
                                 T* __restrict__ out) {
  extern __shared__ float row[];  // [hidden]
  __shared__ float scratch[32];
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
