// CUDA embedding gather + LayerNorm against bertc::ref::embedding, through the Backend, in every
// run precision, over a packed batch with both token types; skipped without a device.
#include <gtest/gtest.h>

#include <vector>

#include "cuda_test_util.h"
#include "kernels/embedding.h"
#include "test_util.h"

namespace bertc::test {
namespace {

class EmbeddingCudaTest : public CudaOpTest {};

TEST_P(EmbeddingCudaTest, MatchesReference) {
  const int64_t vocab = 101, positions = 64, types = 2;
  PackedBatch batch;
  batch.add({1, 5, 100, 2}, {0, 0, 1, 1});
  batch.add({7}, {});
  batch.add(std::vector<int32_t>(64, 3), {});
  const int64_t n = batch.num_tokens();
  backend_->begin_batch(batch);
  // 37: the block-per-token path; 384 (MiniLM), 768: the warp path.
  for (int64_t h : {int64_t{37}, int64_t{384}, int64_t{768}}) {
    SCOPED_TRACE(testing::Message() << "H=" << h);
    const auto word = random_values(vocab * h, dtype(), 71);
    const auto position = random_values(positions * h, dtype(), 72);
    const auto token_type = random_values(types * h, dtype(), 73);
    const auto gamma = random_values(h, dtype(), 74, 0.5f, 1.5f);
    const auto beta = random_values(h, dtype(), 75);
    std::vector<float> want(n * h);
    ref::embedding(batch.input_ids.data(), batch.token_type_ids.data(), batch.position_ids.data(),
                   n, word.data(), position.data(), token_type.data(), gamma.data(), beta.data(),
                   1e-12f, h, want.data());
    const Tensor out = empty_on_device({n, h});
    backend_->embed(to_device(word, {vocab, h}), to_device(position, {positions, h}),
                    to_device(token_type, {types, h}), to_device(gamma, {h}),
                    to_device(beta, {h}), 1e-12f, out);
    // A sum of three rows then LayerNorm with fp32 statistics: 1e-5 (STYLE §6, LayerNorm).
    const Tolerance tol = tolerance_for(dtype(), {1e-5, 1e-5});
    expect_close(to_host(out), want, tol.atol, tol.rtol);
  }
}

BERTC_INSTANTIATE_CUDA_OP_TEST(EmbeddingCudaTest);

}  // namespace
}  // namespace bertc::test
