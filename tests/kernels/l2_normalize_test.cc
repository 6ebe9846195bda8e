// l2_normalize: every ISA's kernel vs ref, unit norms, and zero rows staying zero.
#include "kernels/l2_normalize.h"

#include <cmath>

#include "isa_params.h"
#include "test_util.h"

namespace bertc {
namespace {

// Elementwise scaling after one fp32 sum of squares (<= 769 terms, lane-split): 1e-6 abs / rel.
constexpr double kTol = 1e-6;

class L2Normalize : public ::testing::TestWithParam<cpu::Isa> {};

TEST_P(L2Normalize, CpuMatchesRef) {
  BERTC_KERNELS_OR_SKIP(kernels, GetParam());
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {7, 37}, {37, 769}, {128, 768},
                            {2048, 384}}) {
    auto x = test::random_floats(rows * cols, 1, -3.0f, 3.0f);
    auto want = x;
    ref::l2_normalize(want.data(), rows, cols);
    kernels.l2_normalize(x.data(), rows, cols);
    test::expect_close(x, want, kTol, kTol);
    double norm = 0;
    for (int64_t c = 0; c < cols; ++c) norm += static_cast<double>(x[c]) * x[c];
    EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-6);
  }
}

TEST_P(L2Normalize, ZeroRowStaysZero) {
  BERTC_KERNELS_OR_SKIP(kernels, GetParam());
  std::vector<float> x = {0, 0, 0, 3, 4, 0};
  kernels.l2_normalize(x.data(), 2, 3);
  const std::vector<float> want = {0, 0, 0, 0.6f, 0.8f, 0};
  test::expect_close(x, want, 1e-7, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Isas, L2Normalize, test::kIsas, test::IsaName());

}  // namespace
}  // namespace bertc
