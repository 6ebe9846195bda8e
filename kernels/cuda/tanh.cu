// tanh in place (the pooler activation), fp32 math on any element type; checked against
// bertc::ref::tanh in tests/kernels/tanh_cuda_test.cc.
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace bertc::cuda {
namespace {

template <typename T>
__global__ void tanh_kernel(T* __restrict__ x, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x)
    x[i] = from_float<T>(tanhf(to_float(x[i])));
}

}  // namespace

template <typename T>
void tanh(T* x, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  constexpr int kThreads = 256;
  tanh_kernel<T><<<elementwise_blocks(n, kThreads), kThreads, 0, stream>>>(x, n);
  BERTC_CUDA_LAUNCH_CHECK(stream, "tanh_kernel");
}

#define BERTC_INSTANTIATE_TANH(T) template void tanh<T>(T*, int64_t, cudaStream_t);
BERTC_CUDA_INSTANTIATE(BERTC_INSTANTIATE_TANH)

}  // namespace bertc::cuda
