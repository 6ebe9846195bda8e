// tanh in place (the pooler activation), fp32 math on any element type; checked against
// bertc::ref::tanh in tests/kernels/tanh_cuda_test.cc. 16-byte vectors when x is aligned, the
// last n % (vector size) elements one at a time.
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace bertc::cuda {
namespace {

template <typename T>
__global__ void tanh_kernel(T* __restrict__ x, int64_t n, bool vectors) {
  constexpr int kSize = Vec16<T>::kSize;
  const int64_t stride = int64_t{gridDim.x} * blockDim.x;
  const int64_t first = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  const int64_t vec_end = vectors ? n / kSize : 0;  // x[0, vec_end * kSize) goes by vectors
  for (int64_t i = first; i < vec_end; i += stride) {
    float v[kSize];
    load_vec(x + i * kSize, v);
#pragma unroll
    for (int j = 0; j < kSize; ++j) v[j] = tanhf(v[j]);
    store_vec(x + i * kSize, v);
  }
  for (int64_t i = vec_end * kSize + first; i < n; i += stride)
    x[i] = from_float<T>(tanhf(to_float(x[i])));
}

}  // namespace

template <typename T>
void tanh(T* x, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  constexpr int kThreads = 256;
  const bool vectors = aligned16(x);
  tanh_kernel<T><<<elementwise_blocks(vectors ? n / Vec16<T>::kSize + 1 : n, kThreads), kThreads,
                   0, stream>>>(x, n, vectors);
  BERTC_CUDA_LAUNCH_CHECK(stream, "tanh_kernel");
}

#define BERTC_INSTANTIATE_TANH(T) template void tanh<T>(T*, int64_t, cudaStream_t);
BERTC_CUDA_INSTANTIATE(BERTC_INSTANTIATE_TANH)

}  // namespace bertc::cuda
