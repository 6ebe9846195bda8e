// CUDA and cuBLAS failures as bertc::Error (see check.h).
#include "kernels/cuda/check.h"

#include <cstdlib>
#include <cstring>

namespace bertc::cuda {

void throw_cuda_error(cudaError_t status, const char* statement, const char* file, int line) {
  throw Error(str_cat("CUDA error: ", statement, " failed: ", cudaGetErrorName(status), " (",
                      cudaGetErrorString(status), ") at ", file, ":", line));
}

void throw_cublas_error(cublasStatus_t status, const char* statement, const char* file,
                        int line) {
  throw Error(str_cat("cuBLAS error: ", statement, " failed: ", cublasGetStatusName(status), " (",
                      cublasGetStatusString(status), ") at ", file, ":", line));
}

bool sync_after_launch() {
  static const bool enabled = [] {
    const char* env = std::getenv("BERTC_CUDA_SYNC");
    return env && std::strcmp(env, "1") == 0;
  }();
  return enabled;
}

void check_launch(cudaStream_t stream, const char* kernel, const char* file, int line) {
  if (cudaError_t status = cudaGetLastError(); status != cudaSuccess)
    throw_cuda_error(status, kernel, file, line);
  if (sync_after_launch()) {
    if (cudaError_t status = cudaStreamSynchronize(stream); status != cudaSuccess)
      throw_cuda_error(status, kernel, file, line);
  }
}

}  // namespace bertc::cuda
