// gemm: cpu vs ref (double) at odd and BERT shapes, and the batch invariance the engine needs:
// a row's bits do not depend on the other rows, their number, or the thread count. cpu::gemm
// and each of its paths (kernels/cpu/gemm_paths.h) are tested; the AVX-512 one only where the
// CPU has it.
#include "kernels/gemm.h"
#include "kernels/bias_gelu.h"


#include <cmath>
#include <tuple>
#include <utility>
#include <vector>

#include "kernels/cpu/gemm_paths.h"
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

using GemmFn = void (*)(const float*, const float*, const float*, float*, int64_t, int64_t,
                        int64_t);

// w [m, k] in gemm_packed's layout.
std::vector<float> pack(const float* w, int64_t m, int64_t k) {
  std::vector<float> packed(static_cast<size_t>(cpu::gemm_packed_floats(m, k)), NAN);
  cpu::gemm_pack(w, m, k, packed.data());
  return packed;
}

// The paths to test: cpu::gemm as dispatched, then each path on its own (gemm_packed packs w
// first).
std::vector<std::pair<const char*, GemmFn>> gemm_paths() {
  // The plain epilogue (bias only): lambdas, since a pointer does not carry the default argument.
  std::vector<std::pair<const char*, GemmFn>> paths = {
      {"gemm", [](const float* x, const float* w, const float* b, float* y, int64_t n, int64_t m,
                  int64_t k) { cpu::gemm(x, w, b, y, n, m, k); }},
      {"gemm_eigen", [](const float* x, const float* w, const float* b, float* y, int64_t n,
                        int64_t m, int64_t k) { cpu::gemm_eigen(x, w, b, y, n, m, k); }}};
  if (cpu::has_avx512())
    paths.emplace_back("gemm_avx512", [](const float* x, const float* w, const float* b, float* y,
                                         int64_t n, int64_t m, int64_t k) {
      cpu::gemm_avx512(x, w, b, y, n, m, k);
    });
  if (cpu::gemm_packed_available())
    paths.emplace_back("gemm_packed", [](const float* x, const float* w, const float* b, float* y,
                                         int64_t n, int64_t m, int64_t k) {
      cpu::gemm_packed(x, pack(w, m, k).data(), b, y, n, m, k);
    });
  return paths;
}

class GemmTest : public ::testing::TestWithParam<GemmShape> {};

TEST_P(GemmTest, CpuMatchesRef) {
  const auto [n, m, k, has_bias] = GetParam();
  const auto x = test::random_floats(n * k, 1), w = test::random_floats(m * k, 2),
             bias = test::random_floats(m, 3);
  std::vector<float> want(n * m, NAN);
  const float* b = has_bias ? bias.data() : nullptr;
  ref::gemm(x.data(), w.data(), b, want.data(), n, m, k);
  for (const auto& [name, gemm] : gemm_paths()) {
    SCOPED_TRACE(name);
    std::vector<float> got(n * m, NAN);
    gemm(x.data(), w.data(), b, got.data(), n, m, k);
    test::expect_close(got, want, gemm_tol(k), gemm_tol(k));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, GemmTest,
    ::testing::Values(GemmShape{1, 1, 1, true}, GemmShape{7, 1, 37, false},
                      GemmShape{7, 3, 769, true}, GemmShape{37, 7, 1, true},
                      GemmShape{37, 769, 37, false}, GemmShape{769, 37, 7, true},
                      GemmShape{5, 4, 0, true}, GemmShape{0, 7, 7, true},
                      // K past one 1024-wide K block (gemm_avx512.cc) with a tail of 1: accumulators parked
                      GemmShape{7, 37, 1537, true}, GemmShape{769, 7, 769, false},
                      // BERT: QKV / attention output / FFN in / FFN out at T = 1, 7, 128, 512
                      GemmShape{1, 2304, 768, true}, GemmShape{7, 768, 768, true},
                      GemmShape{128, 3072, 768, true}, GemmShape{128, 768, 3072, true},
                      GemmShape{512, 768, 3072, true},
                      // gemm_packed's k slices: n rows that fit L2 only sliced, odd k and m
                      GemmShape{250, 37, 1601, true}));

void expect_rows_invariant(GemmFn gemm, int64_t n, int64_t m, int64_t k) {
  const auto x = test::random_floats(n * k, 4), w = test::random_floats(m * k, 5),
             bias = test::random_floats(m, 6);
  test::expect_rows_invariant(
      n, m,
      [&](int64_t begin, int64_t count, float* out) {
        gemm(x.data() + begin * k, w.data(), bias.data(), out, count, m, k);
      },
      "m " + std::to_string(m) + ", k " + std::to_string(k));
}

// The fused epilogue gives exactly gemm without bias followed by cpu::bias_gelu, on every path.
TEST(GemmEpilogue, BiasGeluEqualsTheTwoPasses) {
  using FusedFn = void (*)(const float*, const float*, const float*, float*, int64_t, int64_t,
                           int64_t, Epilogue);
  std::vector<std::pair<const char*, FusedFn>> paths = {{"gemm", &cpu::gemm},
                                                        {"gemm_eigen", &cpu::gemm_eigen}};
  if (cpu::has_avx512()) paths.emplace_back("gemm_avx512", &cpu::gemm_avx512);
  if (cpu::gemm_packed_available())
    paths.emplace_back("gemm_packed", [](const float* x, const float* w, const float* b, float* y,
                                         int64_t n, int64_t m, int64_t k, Epilogue e) {
      cpu::gemm_packed(x, pack(w, m, k).data(), b, y, n, m, k, e);
    });
  for (auto [n, m, k] : {std::tuple<int64_t, int64_t, int64_t>{300, 3072, 768}, {130, 96, 3072}, {7, 37, 45},
                         {5, 2, 9}, {3, 5, 0}}) {
    const auto x = test::random_floats(n * k, 1), w = test::random_floats(m * k, 2),
               bias = test::random_floats(m, 3);
    for (const auto& [name, gemm] : paths) {
      SCOPED_TRACE(name);
      std::vector<float> fused(n * m), two(n * m);
      gemm(x.data(), w.data(), bias.data(), fused.data(), n, m, k, Epilogue::kBiasGelu);
      gemm(x.data(), w.data(), nullptr, two.data(), n, m, k, Epilogue::kBias);
      cpu::bias_gelu(two.data(), bias.data(), n, m);
      EXPECT_TRUE(test::same_bits(fused.data(), two.data(), n * m)) << n << "x" << m << "x" << k;
    }
  }
}

TEST(GemmInvariance, RowBitsIndependentOfBatchAndThreads) {
  for (const auto& [name, gemm] : gemm_paths()) {
    SCOPED_TRACE(name);
    expect_rows_invariant(gemm, 300, 768, 768);   // BERT hidden, several row tiles (256 rows each)
    expect_rows_invariant(gemm, 270, 3072, 768);  // FFN in: many column tiles
    expect_rows_invariant(gemm, 40, 768, 3072);   // FFN out: K blocked (Eigen's and ours)
    expect_rows_invariant(gemm, 200, 64, 3072);   // gemm_packed slices k for 200 rows, not for 40
    expect_rows_invariant(gemm, 45, 37, 769);     // odd sizes: leftover micro-kernel rows/columns
    expect_rows_invariant(gemm, 45, 7, 1537);     // K blocks with a tail of 1
    expect_rows_invariant(gemm, 20, 5, 7);        // tiny: near Eigen's small-product threshold
    expect_rows_invariant(gemm, 20, 2, 9);        // m < 4: Eigen path's plain loops
    expect_rows_invariant(gemm, 60, 64, 64);      // small models (H=64, I=96): one tile wide
    expect_rows_invariant(gemm, 60, 96, 64);
    expect_rows_invariant(gemm, 60, 64, 96);
  }
}

}  // namespace
}  // namespace bertc
