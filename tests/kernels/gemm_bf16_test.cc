// gemm_bf16: packing, each path vs ref (bf16-rounded inputs, double sums) at odd and BERT shapes,
// and the batch invariance the engine needs (a row's bits do not depend on the other rows, their
// number or the thread count). The paths: every ISA's table (kernels/cpu/cpu_plan.h), and the
// AVX-512 kernel a table holds only on some CPUs (widening, where VDPBF16PS is missing or slow);
// each is a skipped test naming the reason where this CPU (or the kernel, for AMX) lacks it.
#include "kernels/gemm_bf16.h"

#include <cmath>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/dtype.h"
#include "isa_params.h"
#if defined(__x86_64__)
#include "kernels/cpu/kernels_avx512.h"
#endif
#include "rows_invariance.h"
#include "test_util.h"

namespace bertc {
namespace {

// The inputs are exact in bf16 after rounding, and each product of two bf16 is exact in fp32:
// what is left is fp32 summation error, as in gemm_test.cc (2e-6 * sqrt(k), ~30x eps * sqrt(k)).
double gemm_tol(int64_t k) { return 2e-6 * std::sqrt(static_cast<double>(std::max<int64_t>(k, 1))); }

using GemmBf16Fn = void (*)(const float*, const uint16_t*, const float*, float*, int64_t, int64_t,
                           int64_t, Epilogue);

// A path: an ISA's table (fn null: the table's gemm_bf16), or a kernel that needs the ISA.
struct Path {
  const char* name;
  cpu::Isa isa;
  GemmBf16Fn fn = nullptr;
};

const Path kPaths[] = {
    {"portable", cpu::Isa::kPortable},
    {"avx2", cpu::Isa::kAvx2},
    {"avx512", cpu::Isa::kAvx512},
    {"amx", cpu::Isa::kAmx},
    {"neon", cpu::Isa::kNeon},
#if defined(__x86_64__)
    {"avx512_widened", cpu::Isa::kAvx512, &cpu::avx512::gemm_bf16_widened},
#endif
};

std::string path_name(const ::testing::TestParamInfo<Path>& info) { return info.param.name; }
template <typename T>
std::string path_name(const ::testing::TestParamInfo<std::tuple<Path, T>>& info) {
  return std::string(std::get<0>(info.param).name) + "_" + std::to_string(info.index);
}

// const cpu::CpuKernels& kernels and GemmBf16Fn gemm for PATH, or GTEST_SKIP() with the reason.
#define PATH_OR_SKIP(PATH)                              \
  BERTC_KERNELS_OR_SKIP(kernels, (PATH).isa);           \
  const GemmBf16Fn gemm = (PATH).fn ? (PATH).fn : kernels.gemm_bf16.fn

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

struct Shape3 {
  int64_t n, m, k;
  bool bias;
};

class GemmBf16Test : public ::testing::TestWithParam<std::tuple<Path, Shape3>> {};

TEST_P(GemmBf16Test, PathsMatchRef) {
  PATH_OR_SKIP(std::get<0>(GetParam()));
  const auto [n, m, k, has_bias] = std::get<1>(GetParam());
  const auto x = test::random_floats(n * k, 1), w = test::random_floats(m * k, 2),
             bias = test::random_floats(m, 3);
  const float* b = has_bias ? bias.data() : nullptr;
  std::vector<float> want(n * m, NAN);
  ref::gemm_bf16(x.data(), w.data(), b, want.data(), n, m, k);
  const auto packed = pack(w, m, k);
  std::vector<float> got(n * m, NAN);
  gemm(x.data(), packed.data(), b, got.data(), n, m, k, Epilogue::kBias);
  test::expect_close(got, want, gemm_tol(k), gemm_tol(k));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, GemmBf16Test,
    ::testing::Combine(::testing::ValuesIn(kPaths), ::testing::Values(Shape3{1, 1, 1, true}, Shape3{7, 3, 37, false}, Shape3{33, 17, 64, true},
                      Shape3{37, 769, 37, false}, Shape3{65, 40, 5, true}, Shape3{5, 4, 0, true},
                      Shape3{0, 7, 7, true},
                      // k = 300: 160 k pairs, a full and a partial k block of the portable path
                      Shape3{19, 70, 300, true},
                      // BERT: attention output / FFN in / FFN out at T = 1, 7, 128
                      Shape3{1, 768, 768, true}, Shape3{7, 3072, 768, true},
                      Shape3{128, 768, 3072, true})),
    [](const auto& info) { return path_name(info); });

class GemmBf16Path : public ::testing::TestWithParam<Path> {};

// The fused epilogue gives exactly the plain product followed by the ISA's bias_gelu.
TEST_P(GemmBf16Path, BiasGeluEpilogueEqualsTheTwoPasses) {
  PATH_OR_SKIP(GetParam());
  for (auto [n, m, k] : {std::tuple<int64_t, int64_t, int64_t>{70, 3072, 768}, {7, 37, 45}}) {
    const auto x = test::random_floats(n * k, 1), w = test::random_floats(m * k, 2),
               bias = test::random_floats(m, 3);
    const auto packed = pack(w, m, k);
    std::vector<float> fused(n * m), two(n * m);
    gemm(x.data(), packed.data(), bias.data(), fused.data(), n, m, k, Epilogue::kBiasGelu);
    gemm(x.data(), packed.data(), nullptr, two.data(), n, m, k, Epilogue::kBias);
    kernels.bias_gelu(two.data(), bias.data(), n, m);
    EXPECT_TRUE(test::same_bits(fused.data(), two.data(), n * m)) << n << "x" << m << "x" << k;
  }
}

void expect_rows_invariant(GemmBf16Fn gemm, int64_t n, int64_t m, int64_t k) {
  const auto x = test::random_floats(n * k, 4), w = test::random_floats(m * k, 5),
             bias = test::random_floats(m, 6);
  const auto packed = pack(w, m, k);
  test::expect_rows_invariant(
      n, m,
      [&](int64_t begin, int64_t count, float* out) {
        gemm(x.data() + begin * k, packed.data(), bias.data(), out, count, m, k, Epilogue::kBias);
      },
      "m " + std::to_string(m) + ", k " + std::to_string(k));
}

TEST_P(GemmBf16Path, RowBitsIndependentOfBatchAndThreads) {
  PATH_OR_SKIP(GetParam());
  (void)kernels;
  expect_rows_invariant(gemm, 300, 768, 768);  // several row blocks at K 768 (AMX: 320 rows)
  expect_rows_invariant(gemm, 90, 768, 3072);  // FFN out: 64-row blocks
  expect_rows_invariant(gemm, 45, 37, 77);     // padded rows, columns and k
  expect_rows_invariant(gemm, 40, 70, 300);    // a partial k block (portable)
}

INSTANTIATE_TEST_SUITE_P(Paths, GemmBf16Path, ::testing::ValuesIn(kPaths),
                         [](const auto& info) { return path_name(info); });

}  // namespace
}  // namespace bertc
