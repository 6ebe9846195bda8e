// bias + residual + LayerNorm, one block per row, fp32 statistics (two-pass); checked against
// bertc::ref::bias_residual_layer_norm and the unfused references in
// tests/kernels/layer_norm_cuda_test.cc. Hidden 768 (BERT-base) keeps its row in registers; other
// widths use the shared-memory path.
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace bertc::cuda {
namespace {

// Fast path: kCols / kThreads values per thread stay in registers between the passes.
template <typename T, int kCols, int kThreads>
__global__ void __launch_bounds__(kThreads)
    bias_residual_layer_norm_fixed(const T* __restrict__ x, const T* __restrict__ bias,
                                   const T* residual, const T* __restrict__ gamma,
                                   const T* __restrict__ beta, float eps, T* y) {
  static_assert(kCols % kThreads == 0, "each thread holds the same number of columns");
  constexpr int kPerThread = kCols / kThreads;
  __shared__ float scratch[32];
  const int64_t base = blockIdx.x * int64_t{kCols};
  float v[kPerThread];
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < kPerThread; ++i) {
    const int c = threadIdx.x + i * kThreads;  // consecutive threads, consecutive columns
    v[i] = to_float(x[base + c]) + to_float(bias[c]) + to_float(residual[base + c]);
    sum += v[i];
  }
  const float mean = block_sum(sum, scratch) / kCols;
  float sq = 0.0f;
#pragma unroll
  for (int i = 0; i < kPerThread; ++i) sq += (v[i] - mean) * (v[i] - mean);
  const float rstd = rsqrtf(block_sum(sq, scratch) / kCols + eps);
  // y may alias residual: this thread read its own columns above, and no other thread reads them.
#pragma unroll
  for (int i = 0; i < kPerThread; ++i) {
    const int c = threadIdx.x + i * kThreads;
    y[base + c] = from_float<T>((v[i] - mean) * rstd * to_float(gamma[c]) + to_float(beta[c]));
  }
}

template <typename T>
__global__ void bias_residual_layer_norm_general(const T* __restrict__ x,
                                                 const T* __restrict__ bias, const T* residual,
                                                 const T* __restrict__ gamma,
                                                 const T* __restrict__ beta, float eps, T* y,
                                                 int64_t cols) {
  extern __shared__ float row[];  // [cols]
  __shared__ float scratch[32];
  const int64_t base = blockIdx.x * cols;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
    row[c] = to_float(x[base + c]) + to_float(bias[c]) + to_float(residual[base + c]);
  __syncthreads();
  // The whole row is in shared memory before any write, so y may alias residual.
  layer_norm_row(row, cols, gamma, beta, eps, y + base, scratch);
}

}  // namespace

template <typename T>
void bias_residual_layer_norm(const T* x, const T* bias, const T* residual, const T* gamma,
                              const T* beta, float eps, T* y, int64_t rows, int64_t cols,
                              cudaStream_t stream) {
  if (rows == 0 || cols == 0) return;
  BERTC_CHECK(rows <= 0x7fffffff, "bias_residual_layer_norm: ", rows,
              " rows exceed the CUDA grid");
  const auto grid = static_cast<unsigned>(rows);
  if (cols == 768) {
    bias_residual_layer_norm_fixed<T, 768, 256>
        <<<grid, 256, 0, stream>>>(x, bias, residual, gamma, beta, eps, y);
    BERTC_CUDA_LAUNCH_CHECK(stream, "bias_residual_layer_norm_fixed<768>");
    return;
  }
  BERTC_CHECK(cols <= kLayerNormMaxCols, "bias_residual_layer_norm: hidden size ", cols,
              " exceeds the CUDA kernel's limit of ", kLayerNormMaxCols);
  const int threads = cols >= 256 ? 256 : 32 * static_cast<int>((cols + 31) / 32);
  bias_residual_layer_norm_general<T><<<grid, threads, cols * sizeof(float), stream>>>(
      x, bias, residual, gamma, beta, eps, y, cols);
  BERTC_CUDA_LAUNCH_CHECK(stream, "bias_residual_layer_norm_general");
}

#define BERTC_INSTANTIATE_LAYER_NORM(T)                                                       \
  template void bias_residual_layer_norm<T>(const T*, const T*, const T*, const T*, const T*, \
                                            float, T*, int64_t, int64_t, cudaStream_t);
BERTC_CUDA_INSTANTIATE(BERTC_INSTANTIATE_LAYER_NORM)

}  // namespace bertc::cuda
