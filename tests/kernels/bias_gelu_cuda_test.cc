// CUDA bias + GELU against bertc::ref::bias_gelu, through the Backend, in every run precision;
// skipped without a device.
#include <gtest/gtest.h>

#include "cuda_test_util.h"
#include "kernels/bias_gelu.h"
#include "test_util.h"

namespace bertc::test {
namespace {

class BiasGeluCudaTest : public CudaOpTest {};

TEST_P(BiasGeluCudaTest, MatchesReference) {
  // Odd widths take the one-element path, whole 16-byte vectors the vector path (1536: MiniLM).
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {7, 37}, {37, 769}, {128, 3072},
                            {70000, 8}, {5, 1536}}) {
    SCOPED_TRACE(testing::Message() << rows << "x" << cols);
    // [-4, 4] covers GELU's curved part and both tails.
    const auto x = random_values(rows * cols, dtype(), 11, -4.0f, 4.0f);
    const auto bias = random_values(cols, dtype(), 12);
    std::vector<float> want = x;
    ref::bias_gelu(want.data(), bias.data(), rows, cols);
    const Tensor dx = to_device(x, {rows, cols});
    backend_->add_bias_gelu(dx, to_device(bias, {cols}));
    // fp32 x + bias is rounded once and erff is within 2 ulp: 1e-5 covers both (STYLE §6, GELU);
    // in f16/bf16 the input sum is also rounded before GELU, hence the 16-bit terms.
    const Tolerance tol = tolerance_for(dtype(), {1e-5, 1e-5});
    expect_close(to_host(dx), want, tol.atol, tol.rtol);
  }
}

BERTC_INSTANTIATE_CUDA_OP_TEST(BiasGeluCudaTest);

}  // namespace
}  // namespace bertc::test
