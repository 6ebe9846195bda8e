// bias_gelu: every ISA's kernel vs ref (double erf) at odd and BERT shapes, including the far tails.
#include "kernels/bias_gelu.h"

#include <cmath>
#include <tuple>

#include "isa_params.h"
#include "test_util.h"

namespace bertc {
namespace {

// GELU tolerance (STYLE §6): the cpu erfc approximation is within 1.5e-7 absolute, scaled by
// 0.5 |v| <= 5 here, plus fp32 rounding: 1e-5 absolute / relative has 10x margin.
constexpr double kTol = 1e-5;

class BiasGeluTest
    : public ::testing::TestWithParam<std::tuple<cpu::Isa, std::pair<int64_t, int64_t>>> {};

TEST_P(BiasGeluTest, CpuMatchesRef) {
  BERTC_KERNELS_OR_SKIP(kernels, std::get<0>(GetParam()));
  const auto [rows, cols] = std::get<1>(GetParam());
  auto x = test::random_floats(rows * cols, 1, -8.0f, 8.0f);
  const auto bias = test::random_floats(cols, 2, -2.0f, 2.0f);
  auto want = x;
  ref::bias_gelu(want.data(), bias.data(), rows, cols);
  kernels.bias_gelu(x.data(), bias.data(), rows, cols);
  test::expect_close(x, want, kTol, kTol);
}

INSTANTIATE_TEST_SUITE_P(Shapes, BiasGeluTest,
                         ::testing::Combine(test::kIsas,
                                            ::testing::Values(std::pair<int64_t, int64_t>{1, 1},
                                                              std::pair<int64_t, int64_t>{7, 37},
                                                              std::pair<int64_t, int64_t>{37, 769},
                                                              std::pair<int64_t, int64_t>{0, 5},
                                                              std::pair<int64_t, int64_t>{1, 3072},
                                                              std::pair<int64_t, int64_t>{128, 3072},
                                                              std::pair<int64_t, int64_t>{512, 3072})),
                         test::IsaName());

class BiasGeluIsa : public ::testing::TestWithParam<cpu::Isa> {};

TEST_P(BiasGeluIsa, KnownValuesAndTails) {
  BERTC_KERNELS_OR_SKIP(kernels, GetParam());
  // gelu(0) = 0, gelu(1) = 0.8413447, gelu(-1) = -0.1586553 (0.5 x (1 + erf(x / sqrt 2))),
  // large positive -> x, large negative -> -0 (no NaN from exp underflow).
  std::vector<float> x = {0.0f, 1.0f, -1.0f, 30.0f, -30.0f, 1e-3f};
  const std::vector<float> bias(x.size(), 0.0f);
  kernels.bias_gelu(x.data(), bias.data(), 1, static_cast<int64_t>(x.size()));
  const std::vector<float> want = {0.0f, 0.841344746f, -0.158655254f, 30.0f, 0.0f, 5.003989e-4f};
  test::expect_close(x, want, 1e-6, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Isas, BiasGeluIsa, test::kIsas, test::IsaName());

}  // namespace
}  // namespace bertc
