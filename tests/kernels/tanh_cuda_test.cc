// CUDA tanh against bertc::ref::tanh, through the Backend, in every run precision; skipped
// without a device.
#include <gtest/gtest.h>

#include "cuda_test_util.h"
#include "kernels/tanh.h"
#include "test_util.h"

namespace bertc::test {
namespace {

class TanhCudaTest : public CudaOpTest {};

TEST_P(TanhCudaTest, MatchesReference) {
  for (int64_t n : {int64_t{1}, int64_t{769}, int64_t{128 * 768}}) {
    SCOPED_TRACE(testing::Message() << "n=" << n);
    const auto x = random_values(n, dtype(), 21, -5.0f, 5.0f);
    std::vector<float> want = x;
    ref::tanh(want.data(), n);
    const Tensor dx = to_device(x, {n});
    backend_->tanh(dx);
    // tanhf is within 2 ulp of the exact value: elementwise 1e-6 (STYLE §6).
    const Tolerance tol = tolerance_for(dtype(), {1e-6, 1e-6});
    expect_close(to_host(dx), want, tol.atol, tol.rtol);
  }
}

BERTC_INSTANTIATE_CUDA_OP_TEST(TanhCudaTest);

}  // namespace
}  // namespace bertc::test
