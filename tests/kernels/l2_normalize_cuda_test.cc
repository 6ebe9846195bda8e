// CUDA L2 normalisation against bertc::ref::l2_normalize, through the Backend, in every run
// precision, including a zero row; skipped without a device.
#include <gtest/gtest.h>

#include <algorithm>

#include "cuda_test_util.h"
#include "kernels/l2_normalize.h"
#include "test_util.h"

namespace bertc::test {
namespace {

class L2NormalizeCudaTest : public CudaOpTest {};

TEST_P(L2NormalizeCudaTest, MatchesReference) {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {7, 37}, {3, 768}, {5, 769}}) {
    SCOPED_TRACE(testing::Message() << rows << "x" << cols);
    auto x = random_values(rows * cols, dtype(), 31);
    std::fill(x.begin(), x.begin() + cols, 0.0f);  // row 0 is zero and must stay zero
    std::vector<float> want = x;
    ref::l2_normalize(want.data(), rows, cols);
    const Tensor dx = to_device(x, {rows, cols});
    backend_->l2_normalize(dx);
    // An fp32 sum of squares over <= 769 terms and rsqrtf (2 ulp): 1e-5 relative at most.
    const Tolerance tol = tolerance_for(dtype(), {1e-6, 1e-5});
    const auto got = to_host(dx);
    expect_close(got, want, tol.atol, tol.rtol);
    for (int64_t c = 0; c < cols; ++c) ASSERT_EQ(got[c], 0.0f) << "zero row, column " << c;
  }
}

BERTC_INSTANTIATE_CUDA_OP_TEST(L2NormalizeCudaTest);

}  // namespace
}  // namespace bertc::test
