// CUDA_CHECK / CUBLAS_CHECK messages: the statement, the error's name and text, and file:line.
// Built only with CUDA (tests/CMakeLists.txt); needs no device, so it runs on GPU-less CI too.
#include <gtest/gtest.h>

#include <string>

#include "kernels/cuda/check.h"

namespace bertc::test {
namespace {

std::string message_of(void (*f)()) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no exception)";
}

TEST(CudaCheck, NamesStatementErrorAndLocation) {
  const std::string what = message_of([] { CUDA_CHECK(cudaErrorInvalidValue); });
  EXPECT_NE(what.find("CUDA error: cudaErrorInvalidValue failed: cudaErrorInvalidValue"),
            std::string::npos)
      << what;
  EXPECT_NE(what.find("invalid argument"), std::string::npos) << what;
  EXPECT_NE(what.find("check_cuda_test.cc:"), std::string::npos) << what;
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
}

TEST(CudaCheck, CublasNamesStatusAndLocation) {
  const std::string what = message_of([] { CUBLAS_CHECK(CUBLAS_STATUS_NOT_INITIALIZED); });
  EXPECT_NE(what.find("cuBLAS error: CUBLAS_STATUS_NOT_INITIALIZED failed: "
                      "CUBLAS_STATUS_NOT_INITIALIZED"),
            std::string::npos)
      << what;
  EXPECT_NE(what.find("check_cuda_test.cc:"), std::string::npos) << what;
}

TEST(CudaCheck, SuccessDoesNotThrow) {
  EXPECT_NO_THROW(CUDA_CHECK(cudaSuccess));
  EXPECT_NO_THROW(CUBLAS_CHECK(CUBLAS_STATUS_SUCCESS));
}

}  // namespace
}  // namespace bertc::test
