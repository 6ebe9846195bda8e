// CUDA bias + residual + LayerNorm against bertc::ref, through the Backend, in every run
// precision: the warp path (whole 16-byte vectors up to 2048 halves / 1024 floats: MiniLM's 384,
// BERT's 768 and 1024, a row that fills only some lanes) and the general path (odd widths, up to
// its shared-memory limit, and the clear error past it), y aliasing residual, and the fused kernel
// against the unfused references; skipped without a device.
#include <gtest/gtest.h>

#include <string>

#include "cuda_test_util.h"
#include "kernels/layer_norm.h"
#include "test_util.h"

namespace bertc::test {
namespace {

constexpr float kEps = 1e-12f;  // BERT's layer_norm_eps

class LayerNormCudaTest : public CudaOpTest {
 protected:
  void check(int64_t rows, int64_t cols, bool alias_residual) {
    SCOPED_TRACE(testing::Message() << rows << "x" << cols << " alias=" << alias_residual);
    const auto x = random_values(rows * cols, dtype(), 41);
    const auto bias = random_values(cols, dtype(), 42);
    // An offset of 3 makes the mean large next to the spread: a one-pass variance would lose it.
    const auto residual = random_values(rows * cols, dtype(), 43, 2.0f, 4.0f);
    const auto gamma = random_values(cols, dtype(), 44, 0.5f, 1.5f);
    const auto beta = random_values(cols, dtype(), 45);
    std::vector<float> want(rows * cols);
    ref::bias_residual_layer_norm(x.data(), bias.data(), residual.data(), gamma.data(),
                                  beta.data(), kEps, want.data(), rows, cols);

    const Tensor dres = to_device(residual, {rows, cols});
    const Tensor dy = alias_residual ? dres : empty_on_device({rows, cols});
    backend_->add_bias_residual_layer_norm(to_device(x, {rows, cols}), to_device(bias, {cols}),
                                           dres, to_device(gamma, {cols}),
                                           to_device(beta, {cols}), kEps, dy);
    // fp32 statistics over <= 769 values and rsqrtf: 1e-5 (STYLE §6, LayerNorm).
    const Tolerance tol = tolerance_for(dtype(), {1e-5, 1e-5});
    expect_close(to_host(dy), want, tol.atol, tol.rtol);
  }
};

TEST_P(LayerNormCudaTest, WarpPath) {
  for (int64_t rows : {1, 7, 128}) check(rows, 768, false);
  check(37, 768, true);
  for (int64_t cols : {8, 384, 1024, 1032}) check(9, cols, false);  // 1032: 4 vectors per lane + 1
  check(5, 384, true);
}

TEST_P(LayerNormCudaTest, GeneralPathOddWidths) {
  for (int64_t cols : {1, 37, 769, 4100}) check(7, cols, false);
  check(5, 769, true);
}

// The general path keeps a row of floats in shared memory beside its 128-byte static scratch:
// 12256 columns fit in the 48 KiB a block gets without opting in (12256 + 32 floats), 12257 do
// not, and must be refused with a message rather than fail to launch.
TEST_P(LayerNormCudaTest, GeneralPathWidthLimit) {
  check(2, 12256, false);
  const int64_t cols = 12257;
  const auto x = random_values(cols, dtype(), 57);
  const Tensor dx = to_device(x, {1, cols});
  const Tensor dv = to_device(std::vector<float>(cols, 1.0f), {cols});
  try {
    backend_->add_bias_residual_layer_norm(dx, dv, to_device(x, {1, cols}), dv, dv, kEps,
                                           empty_on_device({1, cols}));
    backend_->synchronize();
    FAIL() << "a row of 12257 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the CUDA kernel's limit of 12256"),
              std::string::npos)
        << e.what();
  }
}

// The fused kernel equals x + bias + residual added by hand, then the plain reference LayerNorm.
TEST_P(LayerNormCudaTest, FusedEqualsUnfusedReference) {
  for (int64_t cols : {768, 37}) {
    const int64_t rows = 7;
    const auto x = random_values(rows * cols, dtype(), 46);
    const auto bias = random_values(cols, dtype(), 47);
    const auto residual = random_values(rows * cols, dtype(), 48);
    const auto gamma = random_values(cols, dtype(), 49, 0.5f, 1.5f);
    const auto beta = random_values(cols, dtype(), 50);
    std::vector<float> sum(rows * cols), want(rows * cols);
    for (int64_t i = 0; i < rows * cols; ++i) sum[i] = x[i] + bias[i % cols] + residual[i];
    ref::layer_norm(sum.data(), gamma.data(), beta.data(), kEps, want.data(), rows, cols);
    const Tensor dy = empty_on_device({rows, cols});
    backend_->add_bias_residual_layer_norm(to_device(x, {rows, cols}), to_device(bias, {cols}),
                                           to_device(residual, {rows, cols}),
                                           to_device(gamma, {cols}), to_device(beta, {cols}),
                                           kEps, dy);
    // The hand-made fp32 sum rounds once more than the kernel's: a few ulp of the inputs.
    const Tolerance tol = tolerance_for(dtype(), {2e-5, 2e-5});
    expect_close(to_host(dy), want, tol.atol, tol.rtol);
  }
}

BERTC_INSTANTIATE_CUDA_OP_TEST(LayerNormCudaTest);

}  // namespace
}  // namespace bertc::test
