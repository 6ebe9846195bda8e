// embedding: every ISA's kernel vs ref, and vs the unfused composition (gather + add, then ref
// LayerNorm).
#include "kernels/embedding.h"

#include <tuple>

#include "isa_params.h"
#include "kernels/layer_norm.h"
#include "test_util.h"

namespace bertc {
namespace {

constexpr double kTol = 1e-5;  // LayerNorm tolerance (see layer_norm_test.cc)
constexpr float kEps = 1e-12f;

struct EmbeddingShape {
  int64_t n, hidden, vocab, positions, types;
};

class EmbeddingTest : public ::testing::TestWithParam<std::tuple<cpu::Isa, EmbeddingShape>> {};

TEST_P(EmbeddingTest, CpuMatchesRefAndUnfusedComposition) {
  BERTC_KERNELS_OR_SKIP(kernels, std::get<0>(GetParam()));
  const auto [n, h, vocab, positions, types] = std::get<1>(GetParam());
  const auto word = test::random_floats(vocab * h, 1), position = test::random_floats(positions * h, 2),
             token_type = test::random_floats(types * h, 3);
  const auto gamma = test::random_floats(h, 4, 0.5f, 1.5f), beta = test::random_floats(h, 5);
  const auto ids = test::random_ints(n, 6, 0, static_cast<int32_t>(vocab - 1));
  const auto type_ids = test::random_ints(n, 7, 0, static_cast<int32_t>(types - 1));
  const auto position_ids = test::random_ints(n, 8, 0, static_cast<int32_t>(positions - 1));
  std::vector<float> got(n * h), want(n * h), sum(n * h), unfused(n * h);
  ref::embedding(ids.data(), type_ids.data(), position_ids.data(), n, word.data(), position.data(),
                 token_type.data(), gamma.data(), beta.data(), kEps, h, want.data());
  kernels.embedding(ids.data(), type_ids.data(), position_ids.data(), n, word.data(), position.data(),
                    token_type.data(), gamma.data(), beta.data(), kEps, h, got.data());
  test::expect_close(got, want, kTol, kTol);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < h; ++c)
      sum[i * h + c] = word[ids[i] * h + c] + position[position_ids[i] * h + c] +
                       token_type[type_ids[i] * h + c];
  ref::layer_norm(sum.data(), gamma.data(), beta.data(), kEps, unfused.data(), n, h);
  test::expect_close(got, unfused, kTol, kTol);
}

INSTANTIATE_TEST_SUITE_P(Shapes, EmbeddingTest,
                         ::testing::Combine(test::kIsas,
                                            ::testing::Values(EmbeddingShape{1, 1, 3, 2, 1},
                                                              EmbeddingShape{7, 37, 50, 9, 2},
                                                              EmbeddingShape{37, 769, 100, 40, 2},
                                                              EmbeddingShape{128, 768, 1000, 512, 2},
                                                              EmbeddingShape{512, 768, 1000, 512, 2})),
                         test::IsaName());

}  // namespace
}  // namespace bertc
