// The reference CUDA GEMM path, bertc::cuda::gemm (cublasGemmEx, the bias broadcast into y and
// added with beta = 1), called directly: the backend takes it only where cuBLASLt declines a
// shape, so the Backend tests alone would rarely reach it. Built only with CUDA
// (tests/CMakeLists.txt); skipped without a device.
#include <gtest/gtest.h>

#include <vector>

#include "cuda_test_util.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/kernels.h"
#include "kernels/gemm.h"
#include "test_util.h"

namespace bertc::test {
namespace {

TEST(CudaGemmCublas, MatchesReference) {
  if (!cuda_device_available()) GTEST_SKIP() << "no CUDA device";
  cublasHandle_t handle = nullptr;
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cublasCreate(&handle), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  ASSERT_EQ(cublasSetStream(handle, stream), CUBLAS_STATUS_SUCCESS);
  struct Case { int64_t n, m, k; bool bias; };
  for (const Case& c : {Case{7, 37, 769, true}, Case{128, 768, 768, true}, Case{70000, 3, 8, true},
                        Case{37, 769, 7, false}}) {
    SCOPED_TRACE(::testing::Message() << "n=" << c.n << " m=" << c.m << " k=" << c.k);
    const auto x = random_floats(c.n * c.k, 1), w = random_floats(c.m * c.k, 2),
               bias = random_floats(c.m, 3);
    std::vector<float> want(c.n * c.m), got(c.n * c.m);
    ref::gemm(x.data(), w.data(), c.bias ? bias.data() : nullptr, want.data(), c.n, c.m, c.k);
    float *dx, *dw, *db, *dy;
    CUDA_CHECK(cudaMalloc(&dx, x.size() * 4));
    CUDA_CHECK(cudaMalloc(&dw, w.size() * 4));
    CUDA_CHECK(cudaMalloc(&db, bias.size() * 4));
    CUDA_CHECK(cudaMalloc(&dy, got.size() * 4));
    CUDA_CHECK(cudaMemcpyAsync(dx, x.data(), x.size() * 4, cudaMemcpyHostToDevice, stream));
    CUDA_CHECK(cudaMemcpyAsync(dw, w.data(), w.size() * 4, cudaMemcpyHostToDevice, stream));
    CUDA_CHECK(cudaMemcpyAsync(db, bias.data(), bias.size() * 4, cudaMemcpyHostToDevice, stream));
    cuda::gemm<float>(dx, dw, c.bias ? db : nullptr, dy, c.n, c.m, c.k, handle, false, stream);
    CUDA_CHECK(cudaMemcpyAsync(got.data(), dy, got.size() * 4, cudaMemcpyDeviceToHost, stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    for (float* p : {dx, dw, db, dy}) cudaFree(p);
    // As gemm_cuda_test.cc: fp32 sums of k products, true fp32 (no TF32).
    expect_close(got, want, 1e-6 + 3e-7 * static_cast<double>(c.k), 1e-5);
  }
  cublasDestroy(handle);
  cudaStreamDestroy(stream);
}

}  // namespace
}  // namespace bertc::test
