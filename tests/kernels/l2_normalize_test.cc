// l2_normalize: cpu vs ref, unit norms, and zero rows staying zero.
#include "kernels/l2_normalize.h"

#include <cmath>

#include "test_util.h"

namespace bertc {
namespace {

// Elementwise scaling after one fp32 sum of squares (<= 769 terms, lane-split): 1e-6 abs / rel.
constexpr double kTol = 1e-6;

TEST(L2Normalize, CpuMatchesRef) {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {7, 37}, {37, 769}, {128, 768},
                            {2048, 384}}) {
    auto x = test::random_floats(rows * cols, 1, -3.0f, 3.0f);
    auto want = x;
    ref::l2_normalize(want.data(), rows, cols);
    cpu::l2_normalize(x.data(), rows, cols);
    test::expect_close(x, want, kTol, kTol);
    double norm = 0;
    for (int64_t c = 0; c < cols; ++c) norm += static_cast<double>(x[c]) * x[c];
    EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-6);
  }
}

TEST(L2Normalize, ZeroRowStaysZero) {
  std::vector<float> x = {0, 0, 0, 3, 4, 0};
  cpu::l2_normalize(x.data(), 2, 3);
  const std::vector<float> want = {0, 0, 0, 0.6f, 0.8f, 0};
  test::expect_close(x, want, 1e-7, 1e-6);
}

}  // namespace
}  // namespace bertc
