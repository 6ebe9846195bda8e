// tanh: every ISA's kernel vs ref over the pooler's sizes and the saturated range.
#include "kernels/tanh.h"

#include "isa_params.h"
#include "test_util.h"

namespace bertc {
namespace {

// Elementwise (STYLE §6): both sides are one libm call, so 1e-6 abs / rel is loose.
constexpr double kTol = 1e-6;

class Tanh : public ::testing::TestWithParam<cpu::Isa> {};

TEST_P(Tanh, CpuMatchesRef) {
  BERTC_KERNELS_OR_SKIP(kernels, GetParam());
  for (int64_t n : {0, 1, 7, 37, 769, 768 * 128}) {
    auto x = test::random_floats(n, 1, -10.0f, 10.0f);
    auto want = x;
    ref::tanh(want.data(), n);
    kernels.tanh(x.data(), n);
    test::expect_close(x, want, kTol, kTol);
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, Tanh, test::kIsas, test::IsaName());

}  // namespace
}  // namespace bertc
