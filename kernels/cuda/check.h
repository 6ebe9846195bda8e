// CUDA_CHECK / CUBLAS_CHECK: turn a failing CUDA or cuBLAS status into a bertc::Error naming the
// statement, the error string and file:line (always, also in release builds: a GPU failure is
// otherwise hard to place). BERTC_CUDA_LAUNCH_CHECK follows every kernel launch.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "common/error.h"

namespace bertc::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* statement, const char* file,
                                   int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* statement,
                                     const char* file, int line);

// True when BERTC_CUDA_SYNC=1: every launch is followed by a stream synchronize, so an
// asynchronous fault is reported at the launch that caused it (read once per process).
bool sync_after_launch();

// Checks cudaGetLastError() after a launch (bad configuration, missing kernel image) and, in
// BERTC_CUDA_SYNC mode, waits for the kernel so its own faults surface here.
void check_launch(cudaStream_t stream, const char* kernel, const char* file, int line);

}  // namespace bertc::cuda

#define CUDA_CHECK(expr)                                                                \
  do {                                                                                  \
    cudaError_t bertc_status_ = (expr);                                                 \
    if (bertc_status_ != cudaSuccess)                                                   \
      ::bertc::cuda::throw_cuda_error(bertc_status_, #expr, __FILE__, __LINE__);        \
  } while (0)

#define CUBLAS_CHECK(expr)                                                              \
  do {                                                                                  \
    cublasStatus_t bertc_status_ = (expr);                                              \
    if (bertc_status_ != CUBLAS_STATUS_SUCCESS)                                         \
      ::bertc::cuda::throw_cublas_error(bertc_status_, #expr, __FILE__, __LINE__);      \
  } while (0)

#define BERTC_CUDA_LAUNCH_CHECK(stream, kernel) \
  ::bertc::cuda::check_launch((stream), (kernel), __FILE__, __LINE__)
