// bias + exact (erf) GELU in place, fp32 math on any element type; checked against
// bertc::ref::bias_gelu in tests/kernels/bias_gelu_cuda_test.cc.
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace bertc::cuda {
namespace {

template <typename T>
__global__ void bias_gelu_kernel(T* __restrict__ x, const T* __restrict__ bias, int64_t n,
                                 int64_t cols) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    float v = to_float(x[i]) + to_float(bias[i % cols]);
    x[i] = from_float<T>(0.5f * v * (1.0f + erff(v * 0.70710678118654752f)));
  }
}

}  // namespace

template <typename T>
void bias_gelu(T* x, const T* bias, int64_t rows, int64_t cols, cudaStream_t stream) {
  const int64_t n = rows * cols;
  if (n == 0) return;
  constexpr int kThreads = 256;
  bias_gelu_kernel<T><<<elementwise_blocks(n, kThreads), kThreads, 0, stream>>>(x, bias, n, cols);
  BERTC_CUDA_LAUNCH_CHECK(stream, "bias_gelu_kernel");
}

#define BERTC_INSTANTIATE_BIAS_GELU(T) \
  template void bias_gelu<T>(T*, const T*, int64_t, int64_t, cudaStream_t);
BERTC_CUDA_INSTANTIATE(BERTC_INSTANTIATE_BIAS_GELU)

}  // namespace bertc::cuda
