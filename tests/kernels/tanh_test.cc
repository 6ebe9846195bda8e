// tanh: cpu vs ref over the pooler's sizes and the saturated range.
#include "kernels/tanh.h"

#include "test_util.h"

namespace bertc {
namespace {

// Elementwise (STYLE §6): both sides are one libm call, so 1e-6 abs / rel is loose.
constexpr double kTol = 1e-6;

TEST(Tanh, CpuMatchesRef) {
  for (int64_t n : {0, 1, 7, 37, 769, 768 * 128}) {
    auto x = test::random_floats(n, 1, -10.0f, 10.0f);
    auto want = x;
    ref::tanh(want.data(), n);
    cpu::tanh(x.data(), n);
    test::expect_close(x, want, kTol, kTol);
  }
}

}  // namespace
}  // namespace bertc
