// CUDA attention over a packed batch against bertc::ref::attention, through the Backend, in every
// run precision: mixed lengths in one batch, odd head sizes, BERT-base heads up to T=512 (tiled
// kernel), the per-token fallback, and a sequence alone equal (bitwise) to the same sequence
// inside a batch; skipped without a device.
#include <gtest/gtest.h>

#include <vector>

#include "cuda_test_util.h"
#include "kernels/attention.h"
#include "test_util.h"

namespace bertc::test {
namespace {

PackedBatch batch_of(const std::vector<int32_t>& lengths) {
  PackedBatch batch;
  for (int32_t len : lengths) batch.add(std::vector<int32_t>(len, 1), {});
  return batch;
}

class AttentionCudaTest : public CudaOpTest {
 protected:
  void check(const std::vector<int32_t>& lengths, int64_t num_heads, int64_t head_dim) {
    SCOPED_TRACE(testing::Message() << lengths.size() << " sequences, NH=" << num_heads
                                    << " D=" << head_dim);
    const PackedBatch batch = batch_of(lengths);
    const int64_t n = batch.num_tokens(), h = num_heads * head_dim;
    // Scores of a few units make the softmax neither flat nor one-hot.
    const auto q = random_values(n * h, dtype(), 51, -2.0f, 2.0f);
    const auto k = random_values(n * h, dtype(), 52, -2.0f, 2.0f);
    const auto v = random_values(n * h, dtype(), 53);
    std::vector<float> want(n * h);
    ref::attention(q.data(), k.data(), v.data(), want.data(), batch.cu_seqlens.data(),
                   batch.num_seqs(), num_heads, head_dim, nullptr);

    backend_->begin_batch(batch);
    const Tensor out = empty_on_device({n, h});
    backend_->attention(to_device(q, {n, h}), to_device(k, {n, h}), to_device(v, {n, h}),
                        num_heads, out);
    // fp32 dot products over D, expf and sums over <= 800 keys: 1e-5 (STYLE §6, softmax).
    const Tolerance tol = tolerance_for(dtype(), {1e-5, 1e-5});
    expect_close(to_host(out), want, tol.atol, tol.rtol);
  }
};

TEST_P(AttentionCudaTest, MixedLengthsOddHeads) { check({1, 7, 37, 2}, 3, 5); }

TEST_P(AttentionCudaTest, MixedLengthsBertHeads) { check({7, 128, 1, 33}, 12, 64); }

TEST_P(AttentionCudaTest, LongSequence) { check({512}, 12, 64); }

// The two cases the tiled kernel leaves to the per-(token, head) kernel: D > 128, and scores of
// 16 queries x 800 keys that do not fit in 48 KiB of shared memory.
TEST_P(AttentionCudaTest, FallbackHeadDimAbove128) { check({5, 9}, 2, 160); }

TEST_P(AttentionCudaTest, FallbackLongerThanSharedScores) { check({800, 3}, 2, 16); }

// A sequence's output depends only on its own tokens: alone or in the middle of a batch it must
// give the same bits (each (token, head) is one block with a fixed summation order).
TEST_P(AttentionCudaTest, SequenceAloneEqualsInBatch) {
  const int64_t num_heads = 12, head_dim = 64, h = num_heads * head_dim;
  const PackedBatch batch = batch_of({5, 19, 3});
  const PackedBatch alone = batch_of({19});
  const int64_t n = batch.num_tokens(), begin = batch.cu_seqlens[1], len = 19;
  const auto q = random_values(n * h, dtype(), 54);
  const auto k = random_values(n * h, dtype(), 55);
  const auto v = random_values(n * h, dtype(), 56);
  auto slice = [&](const std::vector<float>& x) {
    return std::vector<float>(x.begin() + begin * h, x.begin() + (begin + len) * h);
  };

  backend_->begin_batch(batch);
  const Tensor out_batch = empty_on_device({n, h});
  backend_->attention(to_device(q, {n, h}), to_device(k, {n, h}), to_device(v, {n, h}),
                      num_heads, out_batch);
  const auto got_batch = to_host(out_batch);

  backend_->begin_batch(alone);
  const Tensor out_alone = empty_on_device({len, h});
  backend_->attention(to_device(slice(q), {len, h}), to_device(slice(k), {len, h}),
                      to_device(slice(v), {len, h}), num_heads, out_alone);
  EXPECT_TRUE(same_bits(to_host(out_alone).data(), got_batch.data() + begin * h, len * h));
}

BERTC_INSTANTIATE_CUDA_OP_TEST(AttentionCudaTest);

}  // namespace
}  // namespace bertc::test
