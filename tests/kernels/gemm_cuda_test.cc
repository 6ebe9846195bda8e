// CUDA gemm (cuBLAS, fp32 accumulation) against bertc::ref::gemm, through the Backend, in every
// run precision; skipped without a device.
#include <gtest/gtest.h>

#include <cmath>

#include "cuda_test_util.h"
#include "kernels/gemm.h"
#include "test_util.h"

namespace bertc::test {
namespace {

struct GemmCase {
  int64_t n, m, k;
  bool bias;
};

class GemmCudaTest : public CudaOpTest {
 protected:
  void check(const GemmCase& c) {
    SCOPED_TRACE(testing::Message() << "n=" << c.n << " m=" << c.m << " k=" << c.k
                                    << " bias=" << c.bias);
    const auto x = random_values(c.n * c.k, dtype(), 1);
    const auto w = random_values(c.m * c.k, dtype(), 2);
    const auto bias = random_values(c.m, dtype(), 3);
    std::vector<float> want(c.n * c.m);
    ref::gemm(x.data(), w.data(), c.bias ? bias.data() : nullptr, want.data(), c.n, c.m, c.k);

    const Tensor dx = to_device(x, {c.n, c.k});
    const Tensor dw = to_device(w, {c.m, c.k});
    const Tensor dbias = c.bias ? to_device(bias, {c.m}) : Tensor{};
    const Tensor dy = empty_on_device({c.n, c.m});
    backend_->gemm(dx, dw, dbias, dy);
    // fp32 sums of k products of values in [-1, 1]: the rounding error grows with k (about
    // sqrt(k) * 2^-24 * sqrt(k) in magnitude), so atol scales with k; 3e-7 * k is 1e-3 at k=3072
    // on results of magnitude ~sqrt(k/9) ~ 18, i.e. rtol ~5e-5. TF32 (10-bit mantissa) would
    // miss this by two orders of magnitude, which is how this test shows f32 is true fp32.
    const double f32_atol = 1e-6 + 3e-7 * static_cast<double>(c.k);
    const Tolerance tol = tolerance_for(dtype(), {f32_atol, 1e-5});
    expect_close(to_host(dy), want, tol.atol, tol.rtol);
  }
};

TEST_P(GemmCudaTest, OddSizes) {
  for (const GemmCase& c : {GemmCase{1, 1, 1, false}, GemmCase{1, 1, 1, true},
                            GemmCase{7, 37, 769, true}, GemmCase{37, 769, 7, false},
                            GemmCase{5, 3, 0, true}})
    check(c);
}

TEST_P(GemmCudaTest, BertSizes) {
  for (const GemmCase& c : {GemmCase{128, 2304, 768, true}, GemmCase{128, 3072, 768, false},
                            GemmCase{128, 768, 3072, false}, GemmCase{7, 768, 768, true}})
    check(c);
}

BERTC_INSTANTIATE_CUDA_OP_TEST(GemmCudaTest);

}  // namespace
}  // namespace bertc::test
