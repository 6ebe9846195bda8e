// y = x · w^T (+ bias) through cublasGemmEx with fp32 accumulation: the reference GEMM path, used
// where cuBLASLt (gemm_lt.cu) has no algorithm; checked against bertc::ref::gemm in
// tests/kernels/gemm_cuda_test.cc.
#include <algorithm>
#include <type_traits>

#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace bertc::cuda {
namespace {

constexpr int kBiasThreads = 256;

// y[rows, cols] = bias broadcast over the rows: the GEMM then adds x · w^T with beta = 1, so the
// bias joins the fp32 accumulator and a 16-bit y is rounded once, not twice. Grid (column
// blocks, row blocks): no thread divides to find its column.
template <typename T>
__global__ void __launch_bounds__(kBiasThreads)
    broadcast_bias_kernel(T* __restrict__ y, const T* __restrict__ bias, int64_t rows, int cols) {
  const int c = blockIdx.x * kBiasThreads + threadIdx.x;
  if (c >= cols) return;
  const T b = bias[c];
  for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) y[r * cols + c] = b;
}

}  // namespace

template <typename T>
void gemm(const T* x, const T* w, const T* bias, T* y, int64_t n, int64_t m, int64_t k,
          cublasHandle_t handle, bool allow_tf32, cudaStream_t stream) {
  if (n == 0 || m == 0) return;
  BERTC_CHECK(n <= 0x7fffffff && m <= 0x7fffffff && k <= 0x7fffffff, "gemm: shape [", n, ", ", m,
              ", ", k, "] exceeds cuBLAS's 32-bit dimensions");
  // fp32 accumulation for every element type. For fp32 inputs, CUBLAS_COMPUTE_32F (with the
  // handle in CUBLAS_DEFAULT_MATH) never uses TF32 tensor cores; _FAST_TF32 opts in.
  const cublasComputeType_t compute =
      std::is_same_v<T, float> && allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  if (bias) {
    const dim3 grid(static_cast<unsigned>((m + kBiasThreads - 1) / kBiasThreads),
                    static_cast<unsigned>(std::min<int64_t>(n, 65535)));
    broadcast_bias_kernel<T><<<grid, kBiasThreads, 0, stream>>>(y, bias, n, static_cast<int>(m));
    BERTC_CUDA_LAUNCH_CHECK(stream, "broadcast_bias_kernel");
  }
  if (k == 0) {  // y = bias (just broadcast) or 0; cuBLAS is not asked about empty operands
    if (!bias) CUDA_CHECK(cudaMemsetAsync(y, 0, n * m * sizeof(T), stream));
    return;
  }
  const float alpha = 1.0f;
  const float beta = bias ? 1.0f : 0.0f;
  // cuBLAS is column-major. Row-major y[n,m] is column-major y^T[m,n], and
  // y^T = w · x^T: row-major w[m,k] read column-major is w^T[k,m] (so op = T gives w), and
  // row-major x[n,k] read column-major is x^T[k,n] (op = N). Hence A = w, B = x, "m, n" swapped.
  const int ld_k = static_cast<int>(k);
  CUBLAS_CHECK(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(m),
                            static_cast<int>(n), static_cast<int>(k), &alpha, w, kCudaType<T>,
                            ld_k, x, kCudaType<T>, ld_k, &beta, y, kCudaType<T>,
                            static_cast<int>(m), compute, CUBLAS_GEMM_DEFAULT));
  if (sync_after_launch()) CUDA_CHECK(cudaStreamSynchronize(stream));
}

#define BERTC_INSTANTIATE_GEMM(T)                                                     \
  template void gemm<T>(const T*, const T*, const T*, T*, int64_t, int64_t, int64_t, \
                        cublasHandle_t, bool, cudaStream_t);
BERTC_CUDA_INSTANTIATE(BERTC_INSTANTIATE_GEMM)

}  // namespace bertc::cuda
