// attention: every ISA's kernel vs ref over mixed lengths in one packed batch, vs the unfused
// composition (per-head ref GEMMs + a separate softmax), sequences alone vs in the batch bitwise
// and with 1-3 threads, and a softmax that would overflow without the max shift.
#include "kernels/attention.h"

#include <omp.h>

#include <cmath>
#include <tuple>

#include "isa_params.h"
#include "kernels/gemm.h"
#include "test_util.h"

namespace bertc {
namespace {

// Softmax tolerance (STYLE §6): fp32 dot products of D <= 64 terms, exp within ~2 ulp, and
// a convex combination of values in [-1, 1): 1e-5 abs / rel.
constexpr double kTol = 1e-5;

struct AttentionCase {
  std::vector<int32_t> lengths;
  int64_t num_heads, head_dim;
};

struct Inputs {
  std::vector<int32_t> cu;
  int64_t n, h;
  std::vector<float> q, k, v;
};

Inputs make_inputs(const AttentionCase& c, float scale = 1.0f) {
  Inputs in;
  in.cu = test::cu_seqlens_of(c.lengths);
  in.n = in.cu.back();
  in.h = c.num_heads * c.head_dim;
  in.q = test::random_floats(in.n * in.h, 1, -scale, scale);
  in.k = test::random_floats(in.n * in.h, 2, -scale, scale);
  in.v = test::random_floats(in.n * in.h, 3);
  return in;
}

std::vector<float> run_cpu(const cpu::CpuKernels& kernels, const Inputs& in,
                           const AttentionCase& c) {
  std::vector<float> out(in.n * in.h, NAN);
  int32_t len_max = 0;
  for (int32_t len : c.lengths) len_max = std::max(len_max, len);
  std::vector<float> scratch(kernels.attention_scratch_floats(len_max, omp_get_max_threads()));
  kernels.attention(in.q.data(), in.k.data(), in.v.data(), out.data(), in.cu.data(),
                 static_cast<int64_t>(c.lengths.size()), c.num_heads, c.head_dim, scratch.data());
  return out;
}

class AttentionTest : public ::testing::TestWithParam<std::tuple<cpu::Isa, AttentionCase>> {};

TEST_P(AttentionTest, CpuMatchesRef) {
  BERTC_KERNELS_OR_SKIP(kernels, std::get<0>(GetParam()));
  const AttentionCase& c = std::get<1>(GetParam());
  const Inputs in = make_inputs(c);
  std::vector<float> want(in.n * in.h);
  ref::attention(in.q.data(), in.k.data(), in.v.data(), want.data(), in.cu.data(),
                 static_cast<int64_t>(c.lengths.size()), c.num_heads, c.head_dim, nullptr);
  test::expect_close(run_cpu(kernels, in, c), want, kTol, kTol);
}

TEST_P(AttentionTest, FusedMatchesUnfusedRefComposition) {
  BERTC_KERNELS_OR_SKIP(kernels, std::get<0>(GetParam()));
  const AttentionCase& c = std::get<1>(GetParam());
  const Inputs in = make_inputs(c);
  const int64_t d = c.head_dim;
  std::vector<float> want(in.n * in.h);
  for (size_t b = 0; b < c.lengths.size(); ++b) {
    const int64_t begin = in.cu[b], len = c.lengths[b];
    for (int64_t head = 0; head < c.num_heads; ++head) {
      // Gather the head into contiguous [len, D] blocks for the reference GEMMs.
      std::vector<float> qh(len * d), kh(len * d), vt(d * len), scores(len * len), oh(len * d);
      for (int64_t t = 0; t < len; ++t)
        for (int64_t e = 0; e < d; ++e) {
          const int64_t src = (begin + t) * in.h + head * d + e;
          qh[t * d + e] = in.q[src];
          kh[t * d + e] = in.k[src];
          vt[e * len + t] = in.v[src];
        }
      ref::gemm(qh.data(), kh.data(), nullptr, scores.data(), len, len, d);  // q k^T
      for (int64_t i = 0; i < len; ++i) {  // scale + softmax, in double
        double max_s = -INFINITY, sum = 0;
        for (int64_t j = 0; j < len; ++j) max_s = std::max(max_s, scores[i * len + j] / std::sqrt(1.0 * d));
        std::vector<double> p(len);
        for (int64_t j = 0; j < len; ++j) sum += p[j] = std::exp(scores[i * len + j] / std::sqrt(1.0 * d) - max_s);
        for (int64_t j = 0; j < len; ++j) scores[i * len + j] = static_cast<float>(p[j] / sum);
      }
      ref::gemm(scores.data(), vt.data(), nullptr, oh.data(), len, d, len);  // p v
      for (int64_t t = 0; t < len; ++t)
        for (int64_t e = 0; e < d; ++e) want[(begin + t) * in.h + head * d + e] = oh[t * d + e];
    }
  }
  test::expect_close(run_cpu(kernels, in, c), want, kTol, kTol);
}

TEST_P(AttentionTest, SequenceAloneEqualsInBatchBitwiseAnyThreads) {
  BERTC_KERNELS_OR_SKIP(kernels, std::get<0>(GetParam()));
  const AttentionCase& c = std::get<1>(GetParam());
  const Inputs in = make_inputs(c);
  const std::vector<float> batch_out = run_cpu(kernels, in, c);
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    for (size_t b = 0; b < c.lengths.size(); ++b) {
      const AttentionCase alone{{c.lengths[b]}, c.num_heads, c.head_dim};
      Inputs one;
      one.cu = {0, c.lengths[b]};
      one.n = c.lengths[b];
      one.h = in.h;
      const auto first = in.cu[b] * in.h, last = in.cu[b + 1] * in.h;
      one.q.assign(in.q.begin() + first, in.q.begin() + last);
      one.k.assign(in.k.begin() + first, in.k.begin() + last);
      one.v.assign(in.v.begin() + first, in.v.begin() + last);
      const auto out = run_cpu(kernels, one, alone);
      EXPECT_TRUE(test::same_bits(out.data(), batch_out.data() + first, last - first))
          << "sequence " << b << " with " << threads << " threads";
    }
  }
  omp_set_num_threads(saved);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, AttentionTest,
    ::testing::Combine(test::kIsas, ::testing::Values(AttentionCase{{1}, 1, 1}, AttentionCase{{7, 1, 37}, 3, 7},
                      AttentionCase{{1, 7, 128, 3}, 12, 64},  // BERT-base heads, mixed lengths
                      AttentionCase{{37, 5}, 2, 37}, AttentionCase{{512}, 12, 64},
                      AttentionCase{{17, 1, 40}, 12, 32},  // MiniLM heads
                      // D > 128: the per-key dot product path instead of K^T in scratch
                      AttentionCase{{3, 17, 1}, 2, 129})),
    test::IsaName());

class AttentionIsa : public ::testing::TestWithParam<cpu::Isa> {};

TEST_P(AttentionIsa, LargeScoresStayFinite) {
  BERTC_KERNELS_OR_SKIP(kernels, GetParam());
  // Scores near 1e4: exp without the max shift would overflow to inf and give NaN.
  const AttentionCase c{{9, 4}, 2, 16};
  const Inputs in = make_inputs(c, 100.0f);
  std::vector<float> want(in.n * in.h);
  ref::attention(in.q.data(), in.k.data(), in.v.data(), want.data(), in.cu.data(), 2, 2, 16, nullptr);
  // Scores ~1e4 carry fp32 rounding of ~1e-3 into the exponent: a looser but finite bound.
  test::expect_close(run_cpu(kernels, in, c), want, 5e-3, 5e-3);
}

INSTANTIATE_TEST_SUITE_P(Isas, AttentionIsa, test::kIsas, test::IsaName());

}  // namespace
}  // namespace bertc
