// bias + residual + LayerNorm, fp32 statistics (two-pass); checked against
// bertc::ref::bias_residual_layer_norm and the unfused references in
// tests/kernels/layer_norm_cuda_test.cc. Rows of whole 16-byte vectors up to 2048 halves / 1024
// floats (BERT's 384, 768, 1024) take the warp path: one warp per row, the row in registers,
// 16-byte loads, no barrier. Other widths take the general path: one block per row in shared
// memory.
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace bertc::cuda {
namespace {

constexpr int kWarpsPerBlock = 4;

// y may alias residual: each lane reads its own vectors of residual before writing them to y,
// and no other lane touches them.
template <typename T, int kVecs>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    bias_residual_layer_norm_warp(const T* __restrict__ x, const T* __restrict__ bias,
                                  const T* residual, const T* __restrict__ gamma,
                                  const T* __restrict__ beta, float eps, T* y, int64_t rows,
                                  int cols) {
  constexpr int kSize = Vec16<T>::kSize;
  const int64_t row = int64_t{blockIdx.x} * kWarpsPerBlock + (threadIdx.x >> 5);
  if (row >= rows) return;
  const int lane = threadIdx.x & 31;
  const int vecs = cols / kSize;
  const int64_t base = row * cols;
  float v[kVecs][kSize];
#pragma unroll
  for (int i = 0; i < kVecs; ++i) {
    const int c = (lane + 32 * i) * kSize;
    if (lane + 32 * i < vecs) {
      float xb[kSize], b[kSize], r[kSize];
      load_vec(x + base + c, xb);
      load_vec(bias + c, b);
      load_vec(residual + base + c, r);
#pragma unroll
      for (int j = 0; j < kSize; ++j) v[i][j] = xb[j] + b[j] + r[j];
    } else {
#pragma unroll
      for (int j = 0; j < kSize; ++j) v[i][j] = 0.0f;
    }
  }
  warp_layer_norm_row<T, kVecs>(v, vecs, cols, gamma, beta, eps, y + base);
}

template <typename T>
__global__ void bias_residual_layer_norm_general(const T* __restrict__ x,
                                                 const T* __restrict__ bias, const T* residual,
                                                 const T* __restrict__ gamma,
                                                 const T* __restrict__ beta, float eps, T* y,
                                                 int64_t cols) {
  extern __shared__ float row[];  // [cols]
  __shared__ float scratch[kBlockScratchFloats];
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
  constexpr int kSize = Vec16<T>::kSize;
  const bool vectors = cols % kSize == 0 && aligned16(x) && aligned16(bias) &&
                       aligned16(residual) && aligned16(gamma) && aligned16(beta) && aligned16(y);
  if (vectors && rows <= int64_t{0x7fffffff} * kWarpsPerBlock &&
      dispatch_warp_row(cols / kSize, [&]<int kVecs>() {
        const auto grid = static_cast<unsigned>((rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
        bias_residual_layer_norm_warp<T, kVecs><<<grid, kWarpsPerBlock * 32, 0, stream>>>(
            x, bias, residual, gamma, beta, eps, y, rows, static_cast<int>(cols));
        BERTC_CUDA_LAUNCH_CHECK(stream, "bias_residual_layer_norm_warp");
      })) {
    return;
  }
  BERTC_CHECK(rows <= 0x7fffffff, "bias_residual_layer_norm: ", rows,
              " rows exceed the CUDA grid");
  BERTC_CHECK(cols <= kLayerNormMaxCols, "bias_residual_layer_norm: hidden size ", cols,
              " exceeds the CUDA kernel's limit of ", kLayerNormMaxCols);
  const int threads = cols >= 256 ? 256 : 32 * static_cast<int>((cols + 31) / 32);
  bias_residual_layer_norm_general<T><<<static_cast<unsigned>(rows), threads,
                                        cols * sizeof(float), stream>>>(
      x, bias, residual, gamma, beta, eps, y, cols);
  BERTC_CUDA_LAUNCH_CHECK(stream, "bias_residual_layer_norm_general");
}

#define BERTC_INSTANTIATE_LAYER_NORM(T)                                                       \
  template void bias_residual_layer_norm<T>(const T*, const T*, const T*, const T*, const T*, \
                                            float, T*, int64_t, int64_t, cudaStream_t);
BERTC_CUDA_INSTANTIATE(BERTC_INSTANTIATE_LAYER_NORM)

}  // namespace bertc::cuda
