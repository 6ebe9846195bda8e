// layer_norm: every ISA's kernels vs ref, the fused bias + residual + LayerNorm vs the unfused
// reference composition, the aliasing BERT uses (y == residual), and a constant row (variance 0).
#include "kernels/layer_norm.h"

#include <tuple>

#include "isa_params.h"
#include "test_util.h"

namespace bertc {
namespace {

// LayerNorm (STYLE §6): fp32 two-pass mean/variance over <= 3072 elements then an affine map;
// 1e-5 abs / rel is ~100x the fp32 rounding of a normalized value of magnitude ~3.
constexpr double kTol = 1e-5;
constexpr float kEps = 1e-12f;  // BERT's layer_norm_eps

class LayerNormTest
    : public ::testing::TestWithParam<std::tuple<cpu::Isa, std::pair<int64_t, int64_t>>> {};

TEST_P(LayerNormTest, CpuMatchesRef) {
  BERTC_KERNELS_OR_SKIP(kernels, std::get<0>(GetParam()));
  const auto [rows, cols] = std::get<1>(GetParam());
  const auto x = test::random_floats(rows * cols, 1, -4.0f, 4.0f);
  const auto gamma = test::random_floats(cols, 2, 0.5f, 1.5f), beta = test::random_floats(cols, 3);
  std::vector<float> got(rows * cols), want(rows * cols);
  ref::layer_norm(x.data(), gamma.data(), beta.data(), kEps, want.data(), rows, cols);
  kernels.layer_norm(x.data(), gamma.data(), beta.data(), kEps, got.data(), rows, cols);
  test::expect_close(got, want, kTol, kTol);
}

TEST_P(LayerNormTest, FusedMatchesUnfusedRefComposition) {
  BERTC_KERNELS_OR_SKIP(kernels, std::get<0>(GetParam()));
  const auto [rows, cols] = std::get<1>(GetParam());
  const auto x = test::random_floats(rows * cols, 4, -4.0f, 4.0f);
  const auto bias = test::random_floats(cols, 5), residual = test::random_floats(rows * cols, 6);
  const auto gamma = test::random_floats(cols, 7, 0.5f, 1.5f), beta = test::random_floats(cols, 8);
  // Unfused: sum first, then the plain reference LayerNorm.
  std::vector<float> sum(rows * cols), want(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      sum[r * cols + c] = x[r * cols + c] + bias[c] + residual[r * cols + c];
  ref::layer_norm(sum.data(), gamma.data(), beta.data(), kEps, want.data(), rows, cols);
  // Fused, writing over the residual as BertModel does.
  auto y = residual;
  kernels.bias_residual_layer_norm(x.data(), bias.data(), y.data(), gamma.data(), beta.data(),
                                   kEps, y.data(), rows, cols);
  test::expect_close(y, want, kTol, kTol);
  std::vector<float> fused_ref(rows * cols);
  ref::bias_residual_layer_norm(x.data(), bias.data(), residual.data(), gamma.data(), beta.data(),
                                kEps, fused_ref.data(), rows, cols);
  test::expect_close(fused_ref, want, kTol, kTol);
}

INSTANTIATE_TEST_SUITE_P(Shapes, LayerNormTest,
                         ::testing::Combine(test::kIsas,
                                            ::testing::Values(std::pair<int64_t, int64_t>{1, 1},
                                                              std::pair<int64_t, int64_t>{7, 37},
                                                              std::pair<int64_t, int64_t>{37, 769},
                                                              std::pair<int64_t, int64_t>{1, 768},
                                                              std::pair<int64_t, int64_t>{128, 768},
                                                              std::pair<int64_t, int64_t>{512, 768},
                                                              std::pair<int64_t, int64_t>{7, 3072})),
                         test::IsaName());

class LayerNormIsa : public ::testing::TestWithParam<cpu::Isa> {};

TEST_P(LayerNormIsa, ConstantRowGivesBeta) {
  BERTC_KERNELS_OR_SKIP(kernels, GetParam());
  const std::vector<float> x(37, 2.5f), gamma(37, 3.0f), beta = test::random_floats(37, 9);
  std::vector<float> y(37);
  kernels.layer_norm(x.data(), gamma.data(), beta.data(), kEps, y.data(), 1, 37);
  test::expect_close(y, beta, 1e-6, 0);
}

INSTANTIATE_TEST_SUITE_P(Isas, LayerNormIsa, test::kIsas, test::IsaName());

}  // namespace
}  // namespace bertc
