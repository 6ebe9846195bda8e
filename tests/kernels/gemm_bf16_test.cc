// gemm_bf16: packing, each path vs ref (bf16-rounded inputs, double sums) at odd and BERT shapes,
// and the batch invariance the engine needs (a row's bits do not depend on the other rows, their
// number or the thread count). The AMX and AVX512-BF16 paths run only where the CPU (and, for
// AMX, the kernel) allows them.
#include "kernels/gemm_bf16.h"


#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/dtype.h"
#include "kernels/bias_gelu.h"
#include "kernels/cpu/gemm_bf16_paths.h"
#include "rows_invariance.h"
#include "test_util.h"

namespace bertc {
namespace {

// The inputs are exact in bf16 after rounding, and each product of two bf16 is exact in fp32:
// what is left is fp32 summation error, as in gemm_test.cc (2e-6 * sqrt(k), ~30x eps * sqrt(k)).
double gemm_tol(int64_t k) { return 2e-6 * std::sqrt(static_cast<double>(std::max<int64_t>(k, 1))); }

using Path = std::function<void(const float*, const uint16_t*, const float*, float*, int64_t,
                                int64_t, int64_t)>;

// cpu::gemm_bf16 as dispatched, then each path on its own (all but AMX take x rounded and padded).
std::vector<std::pair<const char*, Path>> paths() {
  auto with_rounding = [](auto path) {
    return [path](const float* x, const uint16_t* w, const float* bias, float* y, int64_t n,
                  int64_t m, int64_t k) {
      std::vector<uint16_t> xb(static_cast<size_t>((n + 31) / 32 * 32 * ((k + 31) / 32 * 32)));
      cpu::gemm_bf16_round_x(x, n, k, xb.data());
      path(xb.data(), w, bias, y, n, m, k, Epilogue::kBias);
    };
  };
  std::vector<std::pair<const char*, Path>> p = {
      {"gemm_bf16", [](const float* x, const uint16_t* w, const float* bias, float* y, int64_t n,
                       int64_t m, int64_t k) { cpu::gemm_bf16(x, w, bias, y, n, m, k); }},
      {"portable", with_rounding(&cpu::gemm_bf16_portable)}};
  if (cpu::has_amx_bf16())
    p.emplace_back("amx", [](const float* x, const uint16_t* w, const float* bias, float* y,
                             int64_t n, int64_t m, int64_t k) {
      cpu::gemm_bf16_amx(x, w, bias, y, n, m, k);
    });
  if (cpu::has_avx512_bf16()) p.emplace_back("avx512bf16", with_rounding(&cpu::gemm_bf16_avx512));
  return p;
}

std::vector<uint16_t> pack(const std::vector<float>& w, int64_t m, int64_t k) {
  std::vector<uint16_t> packed(static_cast<size_t>(gemm_bf16_packed_elems(m, k)), 0xffff);
  gemm_bf16_pack(w.data(), m, k, packed.data());
  return packed;
}

TEST(GemmBf16Pack, LayoutAndZeroPadding) {
  const int64_t m = 37, k = 45;  // one padded column pair, one padded k tile
  const auto w = test::random_floats(m * k, 7);
  const auto packed = pack(w, m, k);
  ASSERT_EQ(packed.size(), size_t{64 * 64});
  const int64_t kt = 2;
  for (int64_t c = 0; c < 64; ++c) {
    for (int64_t i = 0; i < 64; ++i) {
      const uint16_t want = c < m && i < k ? f32_to_bf16(w[c * k + i]) : 0;
      const int64_t at = ((c / 16 * kt + i / 32) * 16 + i % 32 / 2) * 32 + c % 16 * 2 + i % 2;
      ASSERT_EQ(packed[at], want) << "column " << c << ", k " << i;
    }
  }
}

// cpu::gemm_bf16 runs AMX where it may, else VDPBF16PS on CPUs without AMX hardware, else the
// portable loops; BERTC_GEMM names a path to force (run the suite under each to cover them).
TEST(GemmBf16Dispatch, PathFollowsCpuAndEnvironment) {
  const char* env = std::getenv("BERTC_GEMM");
  const std::string forced = env ? env : "";
  const std::string path = cpu::gemm_bf16_path_name();
  if (forced == "portable" || forced == "avx512bf16") {
    EXPECT_EQ(path, forced);
  } else if (cpu::has_amx_bf16()) {
    EXPECT_EQ(path, "amx");
  } else if (cpu::has_avx512_bf16() && !cpu::cpu_has_amx_bf16()) {
    EXPECT_EQ(path, "avx512bf16");
  } else {
    EXPECT_EQ(path, "portable");
  }
}

struct Shape3 {
  int64_t n, m, k;
  bool bias;
};

class GemmBf16Test : public ::testing::TestWithParam<Shape3> {};

TEST_P(GemmBf16Test, PathsMatchRef) {
  const auto [n, m, k, has_bias] = GetParam();
  const auto x = test::random_floats(n * k, 1), w = test::random_floats(m * k, 2),
             bias = test::random_floats(m, 3);
  const float* b = has_bias ? bias.data() : nullptr;
  std::vector<float> want(n * m, NAN);
  ref::gemm_bf16(x.data(), w.data(), b, want.data(), n, m, k);
  const auto packed = pack(w, m, k);
  for (const auto& [name, gemm] : paths()) {
    SCOPED_TRACE(name);
    std::vector<float> got(n * m, NAN);
    gemm(x.data(), packed.data(), b, got.data(), n, m, k);
    test::expect_close(got, want, gemm_tol(k), gemm_tol(k));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, GemmBf16Test,
    ::testing::Values(Shape3{1, 1, 1, true}, Shape3{7, 3, 37, false}, Shape3{33, 17, 64, true},
                      Shape3{37, 769, 37, false}, Shape3{65, 40, 5, true}, Shape3{5, 4, 0, true},
                      Shape3{0, 7, 7, true},
                      // k = 300: 160 k pairs, a full and a partial k block of the portable path
                      Shape3{19, 70, 300, true},
                      // BERT: attention output / FFN in / FFN out at T = 1, 7, 128
                      Shape3{1, 768, 768, true}, Shape3{7, 3072, 768, true},
                      Shape3{128, 768, 3072, true}));

// The fused epilogue gives exactly the plain product followed by cpu::bias_gelu, on every path.
TEST(GemmBf16Epilogue, BiasGeluEqualsTheTwoPasses) {
  using Fused = std::function<void(const float*, const uint16_t*, const float*, float*, int64_t,
                                   int64_t, int64_t, Epilogue)>;
  // The paths that take rounded x get it rounded here; AMX takes x as it is.
  auto rounded = [](auto path) {
    return [path](const float* x, const uint16_t* w, const float* bias, float* y, int64_t n,
                  int64_t m, int64_t k, Epilogue e) {
      std::vector<uint16_t> xb(static_cast<size_t>((n + 31) / 32 * 32 * ((k + 31) / 32 * 32)));
      cpu::gemm_bf16_round_x(x, n, k, xb.data());
      path(xb.data(), w, bias, y, n, m, k, e);
    };
  };
  std::vector<std::pair<const char*, Fused>> raw = {{"portable", rounded(&cpu::gemm_bf16_portable)}};
  if (cpu::has_amx_bf16()) raw.emplace_back("amx", &cpu::gemm_bf16_amx);
  if (cpu::has_avx512_bf16()) raw.emplace_back("avx512bf16", rounded(&cpu::gemm_bf16_avx512));
  for (auto [n, m, k] : {std::tuple<int64_t, int64_t, int64_t>{70, 3072, 768}, {7, 37, 45}}) {
    const auto x = test::random_floats(n * k, 1), w = test::random_floats(m * k, 2),
               bias = test::random_floats(m, 3);
    const auto packed = pack(w, m, k);
    for (const auto& [name, path] : raw) {
      SCOPED_TRACE(name);
      std::vector<float> fused(n * m), two(n * m);
      path(x.data(), packed.data(), bias.data(), fused.data(), n, m, k, Epilogue::kBiasGelu);
      path(x.data(), packed.data(), nullptr, two.data(), n, m, k, Epilogue::kBias);
      cpu::bias_gelu(two.data(), bias.data(), n, m);
      EXPECT_TRUE(test::same_bits(fused.data(), two.data(), n * m)) << n << "x" << m << "x" << k;
    }
  }
}

void expect_rows_invariant(const Path& gemm, int64_t n, int64_t m, int64_t k) {
  const auto x = test::random_floats(n * k, 4), w = test::random_floats(m * k, 5),
             bias = test::random_floats(m, 6);
  const auto packed = pack(w, m, k);
  test::expect_rows_invariant(
      n, m,
      [&](int64_t begin, int64_t count, float* out) {
        gemm(x.data() + begin * k, packed.data(), bias.data(), out, count, m, k);
      },
      "m " + std::to_string(m) + ", k " + std::to_string(k));
}

TEST(GemmBf16Invariance, RowBitsIndependentOfBatchAndThreads) {
  for (const auto& [name, gemm] : paths()) {
    SCOPED_TRACE(name);
    expect_rows_invariant(gemm, 300, 768, 768);  // several row blocks at K 768 (AMX: 320 rows)
    expect_rows_invariant(gemm, 90, 768, 3072);  // FFN out: 64-row blocks
    expect_rows_invariant(gemm, 45, 37, 77);     // padded rows, columns and k
    expect_rows_invariant(gemm, 40, 70, 300);    // a partial k block (portable)
  }
}

}  // namespace
}  // namespace bertc
