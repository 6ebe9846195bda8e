// bias + exact (erf) GELU in place, fp32 math on any element type; checked against
// bertc::ref::bias_gelu in tests/kernels/bias_gelu_cuda_test.cc. A 2-D grid (column blocks x
// row blocks) so no thread divides to find its column; 16-byte vectors when the row is a whole
// number of them and the pointers are aligned, one element at a time otherwise.
#include <algorithm>

#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace bertc::cuda {
namespace {

constexpr int kThreads = 128;

__device__ __forceinline__ float gelu_erf(float v) {
  return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
}

// Thread (x, y) owns vector column blockIdx.x * 128 + threadIdx.x of rows y, y + gridDim.y, ...:
// the bias vector is loaded once.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    bias_gelu_vec_kernel(T* __restrict__ x, const T* __restrict__ bias, int64_t rows, int cols) {
  constexpr int kSize = Vec16<T>::kSize;
  const int vc = blockIdx.x * kThreads + threadIdx.x;
  if (vc * kSize >= cols) return;
  float b[kSize];
  if (bias) {
    load_vec(bias + vc * kSize, b);
  } else {
#pragma unroll
    for (int j = 0; j < kSize; ++j) b[j] = 0.0f;
  }
  for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) {
    T* p = x + r * cols + vc * kSize;
    float v[kSize];
    load_vec(p, v);
#pragma unroll
    for (int j = 0; j < kSize; ++j) v[j] = gelu_erf(v[j] + b[j]);
    store_vec(p, v);
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    bias_gelu_kernel(T* __restrict__ x, const T* __restrict__ bias, int64_t rows, int cols) {
  const int c = blockIdx.x * kThreads + threadIdx.x;
  if (c >= cols) return;
  const float b = bias ? to_float(bias[c]) : 0.0f;
  for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) {
    T* p = x + r * cols + c;
    *p = from_float<T>(gelu_erf(to_float(*p) + b));
  }
}

}  // namespace

template <typename T>
void bias_gelu(T* x, const T* bias, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (rows == 0 || cols == 0) return;
  BERTC_CHECK(cols <= 0x7fffffff / 2, "bias_gelu: ", cols, " columns exceed the CUDA kernel");
  constexpr int kSize = Vec16<T>::kSize;
  const bool vectors = cols % kSize == 0 && aligned16(x) && (!bias || aligned16(bias));
  const int64_t per_row = vectors ? cols / kSize : cols;  // threads a row needs
  const auto col_blocks = static_cast<unsigned>((per_row + kThreads - 1) / kThreads);
  // Enough row blocks to fill any current GPU several times over; each loops over the rest.
  const int64_t want_blocks = 4096;
  const auto row_blocks = static_cast<unsigned>(
      std::min<int64_t>(std::min<int64_t>(rows, 65535),
                        std::max<int64_t>(1, want_blocks / col_blocks)));
  const dim3 grid(col_blocks, row_blocks);
  if (vectors) {
    bias_gelu_vec_kernel<T><<<grid, kThreads, 0, stream>>>(x, bias, rows, static_cast<int>(cols));
    BERTC_CUDA_LAUNCH_CHECK(stream, "bias_gelu_vec_kernel");
  } else {
    bias_gelu_kernel<T><<<grid, kThreads, 0, stream>>>(x, bias, rows, static_cast<int>(cols));
    BERTC_CUDA_LAUNCH_CHECK(stream, "bias_gelu_kernel");
  }
}

#define BERTC_INSTANTIATE_BIAS_GELU(T) \
  template void bias_gelu<T>(T*, const T*, int64_t, int64_t, cudaStream_t);
BERTC_CUDA_INSTANTIATE(BERTC_INSTANTIATE_BIAS_GELU)

}  // namespace bertc::cuda
