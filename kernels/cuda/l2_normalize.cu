// Row-wise L2 normalisation in place, one block per row, fp32 sum of squares; checked against
// bertc::ref::l2_normalize in tests/kernels/l2_normalize_cuda_test.cc.
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace bertc::cuda {
namespace {

template <typename T>
__global__ void l2_normalize_kernel(T* __restrict__ x, int64_t cols) {
  __shared__ float scratch[32];
  T* row = x + blockIdx.x * cols;
  float sum_sq = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    float v = to_float(row[c]);
    sum_sq += v * v;
  }
  sum_sq = block_sum(sum_sq, scratch);
  // A zero row has no direction: it stays zero instead of becoming NaN.
  const float inv_norm = sum_sq > 0.0f ? rsqrtf(sum_sq) : 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
    row[c] = from_float<T>(to_float(row[c]) * inv_norm);
}

}  // namespace

template <typename T>
void l2_normalize(T* x, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (rows == 0 || cols == 0) return;
  BERTC_CHECK(rows <= 0x7fffffff, "l2_normalize: ", rows, " rows exceed the CUDA grid");
  constexpr int kThreads = 256;
  l2_normalize_kernel<T><<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(x, cols);
  BERTC_CUDA_LAUNCH_CHECK(stream, "l2_normalize_kernel");
}

#define BERTC_INSTANTIATE_L2_NORMALIZE(T) \
  template void l2_normalize<T>(T*, int64_t, int64_t, cudaStream_t);
BERTC_CUDA_INSTANTIATE(BERTC_INSTANTIATE_L2_NORMALIZE)

}  // namespace bertc::cuda
