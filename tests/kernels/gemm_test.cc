// gemm: every ISA's packed gemm (kernels/cpu/cpu_plan.h; the portable one is Eigen on w as
// stored) vs ref (double) at odd and BERT shapes, and the batch invariance the engine needs: a
// row's bits do not depend on the other rows, their number, or the thread count. An ISA this CPU
// lacks is a skipped test naming it.
#include "kernels/gemm.h"

#include <cmath>
#include <tuple>
#include <utility>
#include <vector>

#include "isa_params.h"
#include "rows_invariance.h"
#include "test_util.h"

namespace bertc {
namespace {

// fp32 rounding error of a k-term dot product grows like sqrt(k) * eps * |terms| (random signs);
// inputs are in [-1, 1), so 2e-6 * sqrt(k) is ~30x fp32 eps * sqrt(k): 1.1e-4 at k = 3072.
double gemm_tol(int64_t k) { return 2e-6 * std::sqrt(static_cast<double>(std::max<int64_t>(k, 1))); }

struct GemmShape {
  int64_t n, m, k;
  bool bias;
};

// w [m, k] in the table's packed layout, NaN in any padding the packing does not write.
std::vector<float> pack(const cpu::CpuKernels& kernels, const float* w, int64_t m, int64_t k) {
  std::vector<float> packed(static_cast<size_t>(kernels.gemm_packed_floats(m, k)), NAN);
  kernels.gemm_pack(w, m, k, packed.data());
  return packed;
}

// The table's gemm on unpacked w: packs it, then multiplies.
void gemm(const cpu::CpuKernels& kernels, const float* x, const float* w, const float* b, float* y,
          int64_t n, int64_t m, int64_t k, Epilogue epilogue = Epilogue::kBias) {
  kernels.gemm_packed(x, pack(kernels, w, m, k).data(), b, y, n, m, k, epilogue);
}

class GemmTest : public ::testing::TestWithParam<std::tuple<cpu::Isa, GemmShape>> {};

TEST_P(GemmTest, CpuMatchesRef) {
  BERTC_KERNELS_OR_SKIP(kernels, std::get<0>(GetParam()));
  const auto [n, m, k, has_bias] = std::get<1>(GetParam());
  const auto x = test::random_floats(n * k, 1), w = test::random_floats(m * k, 2),
             bias = test::random_floats(m, 3);
  std::vector<float> want(n * m, NAN);
  const float* b = has_bias ? bias.data() : nullptr;
  ref::gemm(x.data(), w.data(), b, want.data(), n, m, k);
  std::vector<float> got(n * m, NAN);
  gemm(kernels, x.data(), w.data(), b, got.data(), n, m, k);
  test::expect_close(got, want, gemm_tol(k), gemm_tol(k));
}

TEST(Gemm, UnpackedEigenMatchesRef) {
  // cpu::gemm on w as stored: what the backend runs for an f32 w it did not prepare.
  const int64_t n = 37, m = 769, k = 37;
  const auto x = test::random_floats(n * k, 1), w = test::random_floats(m * k, 2),
             bias = test::random_floats(m, 3);
  std::vector<float> want(n * m), got(n * m, NAN);
  ref::gemm(x.data(), w.data(), bias.data(), want.data(), n, m, k);
  cpu::gemm(x.data(), w.data(), bias.data(), got.data(), n, m, k);
  test::expect_close(got, want, gemm_tol(k), gemm_tol(k));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, GemmTest,
    ::testing::Combine(test::kIsas, ::testing::Values(GemmShape{1, 1, 1, true}, GemmShape{7, 1, 37, false},
                      GemmShape{7, 3, 769, true}, GemmShape{37, 7, 1, true},
                      GemmShape{37, 769, 37, false}, GemmShape{769, 37, 7, true},
                      GemmShape{5, 4, 0, true}, GemmShape{0, 7, 7, true},
                      // K past a 1024-wide K block with a tail of 1
                      GemmShape{7, 37, 1537, true}, GemmShape{769, 7, 769, false},
                      // BERT: QKV / attention output / FFN in / FFN out at T = 1, 7, 128, 512
                      GemmShape{1, 2304, 768, true}, GemmShape{7, 768, 768, true},
                      GemmShape{128, 3072, 768, true}, GemmShape{128, 768, 3072, true},
                      GemmShape{512, 768, 3072, true},
                      // gemm_packed's k slices: n rows that fit L2 only sliced, odd k and m
                      GemmShape{250, 37, 1601, true})),
    test::IsaName());

void expect_rows_invariant(const cpu::CpuKernels& kernels, int64_t n, int64_t m, int64_t k) {
  const auto x = test::random_floats(n * k, 4), w = test::random_floats(m * k, 5),
             bias = test::random_floats(m, 6);
  const auto packed = pack(kernels, w.data(), m, k);
  test::expect_rows_invariant(
      n, m,
      [&](int64_t begin, int64_t count, float* out) {
        kernels.gemm_packed(x.data() + begin * k, packed.data(), bias.data(), out, count, m, k,
                            Epilogue::kBias);
      },
      "m " + std::to_string(m) + ", k " + std::to_string(k));
}

class GemmIsa : public ::testing::TestWithParam<cpu::Isa> {};

// The fused epilogue gives exactly gemm without bias followed by the ISA's bias_gelu.
TEST_P(GemmIsa, BiasGeluEpilogueEqualsTheTwoPasses) {
  BERTC_KERNELS_OR_SKIP(kernels, GetParam());
  for (auto [n, m, k] : {std::tuple<int64_t, int64_t, int64_t>{300, 3072, 768}, {130, 96, 3072}, {7, 37, 45},
                         {5, 2, 9}, {3, 5, 0}}) {
    const auto x = test::random_floats(n * k, 1), w = test::random_floats(m * k, 2),
               bias = test::random_floats(m, 3);
    std::vector<float> fused(n * m), two(n * m);
    gemm(kernels, x.data(), w.data(), bias.data(), fused.data(), n, m, k, Epilogue::kBiasGelu);
    gemm(kernels, x.data(), w.data(), nullptr, two.data(), n, m, k, Epilogue::kBias);
    kernels.bias_gelu(two.data(), bias.data(), n, m);
    EXPECT_TRUE(test::same_bits(fused.data(), two.data(), n * m)) << n << "x" << m << "x" << k;
  }
}

TEST_P(GemmIsa, RowBitsIndependentOfBatchAndThreads) {
  BERTC_KERNELS_OR_SKIP(kernels, GetParam());
  expect_rows_invariant(kernels, 300, 768, 768);   // BERT hidden, several row tiles (256 rows each)
  expect_rows_invariant(kernels, 270, 3072, 768);  // FFN in: many column tiles
  expect_rows_invariant(kernels, 40, 768, 3072);   // FFN out: K blocked (Eigen's and ours)
  expect_rows_invariant(kernels, 200, 64, 3072);   // gemm_packed slices k for 200 rows, not for 40
  expect_rows_invariant(kernels, 45, 37, 769);     // odd sizes: leftover micro-kernel rows/columns
  expect_rows_invariant(kernels, 45, 7, 1537);     // K blocks with a tail of 1
  expect_rows_invariant(kernels, 20, 5, 7);        // tiny: near Eigen's small-product threshold
  expect_rows_invariant(kernels, 20, 2, 9);        // m < 4: Eigen path's plain loops
  expect_rows_invariant(kernels, 60, 64, 64);      // small models (H=64, I=96): one tile wide
  expect_rows_invariant(kernels, 60, 96, 64);
  expect_rows_invariant(kernels, 60, 64, 96);
}

INSTANTIATE_TEST_SUITE_P(Isas, GemmIsa, test::kIsas, test::IsaName());

}  // namespace
}  // namespace bertc
