// pooling: every ISA's kernel vs ref for every mode over mixed lengths in one packed batch, mean over T = 1
// equals the token, and a sequence pooled alone equals it pooled inside the batch, bitwise.
#include "kernels/pooling.h"

#include <tuple>

#include "isa_params.h"
#include "test_util.h"

namespace bertc {
namespace {

// Mean in double then one rounding to fp32 on both sides: 1e-6 abs / rel (elementwise).
constexpr double kTol = 1e-6;

class PoolingTest : public ::testing::TestWithParam<std::tuple<cpu::Isa, PoolMode>> {};

TEST_P(PoolingTest, MixedLengthsMatchRefAndSingle) {
  BERTC_KERNELS_OR_SKIP(kernels, std::get<0>(GetParam()));
  const PoolMode mode = std::get<1>(GetParam());
  for (int64_t h : {1, 37, 769, 768}) {
    const std::vector<int32_t> lengths = {1, 7, 128, 37, 2, 512};
    const auto cu = test::cu_seqlens_of(lengths);
    const int64_t n = cu.back(), b = static_cast<int64_t>(lengths.size());
    const auto hidden = test::random_floats(n * h, 1, -3.0f, 3.0f);
    std::vector<float> got(b * h), want(b * h);
    ref::pool(hidden.data(), cu.data(), b, h, mode, want.data());
    kernels.pool(hidden.data(), cu.data(), b, h, mode, got.data());
    test::expect_close(got, want, kTol, kTol);
    for (int64_t s = 0; s < b; ++s) {
      const int32_t single_cu[2] = {0, lengths[s]};
      std::vector<float> single(h);
      kernels.pool(hidden.data() + cu[s] * h, single_cu, 1, h, mode, single.data());
      EXPECT_TRUE(test::same_bits(single.data(), got.data() + s * h, h)) << "sequence " << s;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, PoolingTest,
                         ::testing::Combine(test::kIsas,
                                            ::testing::Values(PoolMode::kCls, PoolMode::kMean,
                                                              PoolMode::kMax, PoolMode::kPooled)),
                         test::IsaName());

class PoolingIsa : public ::testing::TestWithParam<cpu::Isa> {};

TEST_P(PoolingIsa, MeanOfOneTokenIsTheToken) {
  BERTC_KERNELS_OR_SKIP(kernels, GetParam());
  const auto hidden = test::random_floats(768, 2);
  const int32_t cu[2] = {0, 1};
  std::vector<float> out(768);
  kernels.pool(hidden.data(), cu, 1, 768, PoolMode::kMean, out.data());
  EXPECT_TRUE(test::same_bits(out.data(), hidden.data(), 768));
}

INSTANTIATE_TEST_SUITE_P(Isas, PoolingIsa, test::kIsas, test::IsaName());

}  // namespace
}  // namespace bertc
