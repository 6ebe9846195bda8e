// Every ISA's topk / topk_f16 against ref::topk. Small-integer inputs make every dot product exact
// in float32 (|sum| < 2^24) and produce many equal scores, so indices must match exactly,
// tie-breaking included; random-normal inputs check scores at a float32 tolerance.
#include "kernels/topk.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

#include "common/dtype.h"
#include "isa_params.h"

namespace bertc {
namespace {

struct Case {
  int64_t rows, dim, queries, k;
  int threads;
};

std::vector<float> small_ints(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-2, 2);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = static_cast<float>(dist(rng));
  return v;
}

class TopkExact : public ::testing::TestWithParam<std::tuple<cpu::Isa, Case>> {};

TEST_P(TopkExact, MatchesReferenceIncludingTies) {
  BERTC_KERNELS_OR_SKIP(kernels, std::get<0>(GetParam()));
  const Case c = std::get<1>(GetParam());
  std::vector<float> m = small_ints(c.rows * c.dim, 1), q = small_ints(c.queries * c.dim, 2);
  std::vector<uint16_t> m16(m.size());
  for (size_t i = 0; i < m.size(); ++i) m16[i] = f32_to_f16(m[i]);
  const size_t n = static_cast<size_t>(c.queries * c.k);
  std::vector<int64_t> want_i(n), got_i(n), got16_i(n);
  std::vector<float> want_s(n), got_s(n), got16_s(n);
  ref::topk(m.data(), c.rows, c.dim, q.data(), c.queries, c.k, want_i.data(), want_s.data());
  kernels.topk(m.data(), c.rows, c.dim, q.data(), c.queries, c.k, got_i.data(), got_s.data(),
               c.threads);
  kernels.topk_f16(m16.data(), c.rows, c.dim, q.data(), c.queries, c.k, got16_i.data(),
                   got16_s.data(), c.threads);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(got_i[i], want_i[i]) << "query " << i / c.k << " rank " << i % c.k;
    ASSERT_EQ(got_s[i], want_s[i]) << "query " << i / c.k << " rank " << i % c.k;
    ASSERT_EQ(got16_i[i], want_i[i]) << "f16 query " << i / c.k << " rank " << i % c.k;
    ASSERT_EQ(got16_s[i], want_s[i]) << "f16 query " << i / c.k << " rank " << i % c.k;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, TopkExact,
    ::testing::Combine(test::kIsas,
                       ::testing::Values(Case{1, 1, 1, 1, 0}, Case{37, 25, 3, 10, 0},
                                         Case{37, 25, 1, 37, 0}, Case{769, 300, 1, 10, 0},
                                         Case{769, 17, 4, 1, 1},
                                         // Enough rows for several threads and blocks, so merging
                                         // is exercised.
                                         Case{70001, 25, 1, 10, 4}, Case{70001, 25, 5, 100, 3},
                                         Case{33000, 300, 2, 10, 2}, Case{769, 768, 1, 10, 0})),
    test::IsaName());

class Topk : public ::testing::TestWithParam<cpu::Isa> {};

TEST_P(Topk, RandomNormalScores) {
  BERTC_KERNELS_OR_SKIP(kernels, GetParam());
  const int64_t rows = 5000, dim = 300, k = 10;
  std::mt19937 rng(3);
  std::normal_distribution<float> dist;
  std::vector<float> m(rows * dim), q(2 * dim);
  for (float& x : m) x = dist(rng);
  for (float& x : q) x = dist(rng);
  std::vector<int64_t> want_i(2 * k), got_i(2 * k);
  std::vector<float> want_s(2 * k), got_s(2 * k);
  ref::topk(m.data(), rows, dim, q.data(), 2, k, want_i.data(), want_s.data());
  kernels.topk(m.data(), rows, dim, q.data(), 2, k, got_i.data(), got_s.data(), 0);
  for (int64_t i = 0; i < 2 * k; ++i) {
    // float32 dot of 300 products of magnitude ~1: rounding error well below 1e-3 absolute;
    // the scores (~±50) differ between ranks by far more, so the order is the reference's.
    EXPECT_NEAR(got_s[i], want_s[i], 1e-3) << "rank " << i;
    EXPECT_EQ(got_i[i], want_i[i]) << "rank " << i;
  }
}

TEST_P(Topk, NanRanksLast) {
  BERTC_KERNELS_OR_SKIP(kernels, GetParam());
  const int64_t dim = 2;
  std::vector<float> m = {1, 0, std::nanf(""), 0, 0.5f, 0, -1, 0};
  std::vector<float> q = {1, 0};
  std::vector<int64_t> idx(4);
  std::vector<float> s(4);
  kernels.topk(m.data(), 4, dim, q.data(), 1, 4, idx.data(), s.data(), 0);
  EXPECT_EQ(idx, (std::vector<int64_t>{0, 2 /* 0.5 */, 3, 1}));
  EXPECT_EQ(s[3], -std::numeric_limits<float>::infinity());
  ref::topk(m.data(), 4, dim, q.data(), 1, 4, idx.data(), s.data());
  EXPECT_EQ(idx, (std::vector<int64_t>{0, 2, 3, 1}));
}

TEST_P(Topk, EmptyCorpusOrZeroK) {
  BERTC_KERNELS_OR_SKIP(kernels, GetParam());
  std::vector<float> q = {1, 0};
  kernels.topk(nullptr, 0, 2, q.data(), 1, 0, nullptr, nullptr, 0);
  ref::topk(nullptr, 0, 2, q.data(), 1, 0, nullptr, nullptr);
}

INSTANTIATE_TEST_SUITE_P(Isas, Topk, test::kIsas, test::IsaName());

}  // namespace
}  // namespace bertc
