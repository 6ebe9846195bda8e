// CUDA attention over a packed batch against bertc::ref::attention, through the Backend, in every
// run precision and on every path (simt, gemm, flash; a path that cannot take a shape falls back,
// and the fallback is checked the same way): mixed lengths in one batch, odd head sizes, MiniLM's
// D = 32 and BERT-base's D = 64 up to T = 512, D in (64, 128] on the tiled SIMT kernel, the
// per-token SIMT kernel for long sequences, both SIMT kernels in one batch, and a sequence alone
// against the same sequence inside a batch; skipped without a device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
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

using AttentionParam = std::tuple<DType, CudaAttention>;

const char* path_name(CudaAttention a) {
  switch (a) {
    case CudaAttention::kSimt: return "simt";
    case CudaAttention::kGemm: return "gemm";
    case CudaAttention::kFlash: return "flash";
    default: return "auto";
  }
}

class AttentionCudaTest : public CudaOpTestBase,
                          public ::testing::WithParamInterface<AttentionParam> {
 protected:
  void SetUp() override { make(std::get<0>(GetParam()), std::get<1>(GetParam())); }
  CudaAttention path() const { return std::get<1>(GetParam()); }

  std::vector<float> run(const PackedBatch& batch, const std::vector<float>& q,
                         const std::vector<float>& k, const std::vector<float>& v,
                         int64_t num_heads, int64_t h) {
    const int64_t n = batch.num_tokens();
    backend_->begin_batch(batch);
    const Tensor out = empty_on_device({n, h});
    backend_->attention(to_device(q, {n, h}), to_device(k, {n, h}), to_device(v, {n, h}),
                        num_heads, out);
    return to_host(out);
  }

  void check(const std::vector<int32_t>& lengths, int64_t num_heads, int64_t head_dim) {
    SCOPED_TRACE(::testing::Message() << lengths.size() << " sequences, NH=" << num_heads
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
    // fp32 dot products over D, expf and sums over <= 800 keys: 1e-5 (STYLE §6, softmax). The
    // 16-bit paths round the probabilities (in [0, 1]) before P·V: u · max|v| = u.
    const Tolerance tol = tolerance_for(dtype(), {1e-5, 1e-5}, /*scale=*/1.0);
    expect_close(run(batch, q, k, v, num_heads, h), want, tol.atol, tol.rtol);
  }
};

TEST_P(AttentionCudaTest, MixedLengthsOddHeads) { check({1, 7, 37, 2}, 3, 5); }

TEST_P(AttentionCudaTest, MixedLengthsBertHeads) { check({7, 128, 1, 33}, 12, 64); }

TEST_P(AttentionCudaTest, MiniLmHeads) { check({5, 64, 17, 128, 1}, 12, 32); }

TEST_P(AttentionCudaTest, LongSequence) { check({512}, 12, 64); }

// Lengths that are not multiples of the flash kernel's 64-query / 64-key tiles, nor of the
// gemm path's 8-row windows, next to ones that are.
TEST_P(AttentionCudaTest, TileBoundaries) { check({63, 64, 65, 129, 8, 9}, 2, 64); }

// The tiled SIMT kernel takes head dims up to 128.
TEST_P(AttentionCudaTest, HeadDimBetween64And128) { check({3, 40, 17}, 2, 96); }

// What the tiled SIMT kernel leaves to the per-(token, head) kernel: D > 128, and scores of 16
// queries x 800 keys that do not fit in 48 KiB of shared memory.
TEST_P(AttentionCudaTest, HeadDimAbove128) { check({5, 9}, 2, 160); }

TEST_P(AttentionCudaTest, LongerThanSharedScores) { check({800, 3}, 2, 16); }

// One batch on both sides of the SIMT switch: at D = 64 the tiled kernel takes sequences up to
// attention_simt_tiled_len_limit (573 tokens), the per-token kernel the longer one.
TEST_P(AttentionCudaTest, BothSimtKernelsInOneBatch) { check({600, 5, 64, 1}, 2, 64); }

// A sequence's output depends only on its own tokens. On the simt and flash paths each block
// reads one sequence in a fixed order, so alone or in the middle of a batch (with longer and
// shorter neighbours, one of them past the SIMT switch) it gives the same bits. The gemm path's
// cuBLAS kernels may change with the window and batch count: there, the same values to rounding.
TEST_P(AttentionCudaTest, SequenceAloneEqualsInBatch) {
  const int64_t num_heads = 2, head_dim = 64, h = num_heads * head_dim;
  const PackedBatch batch = batch_of({5, 19, 600, 3});
  const PackedBatch alone = batch_of({19});
  const int64_t n = batch.num_tokens(), begin = batch.cu_seqlens[1], len = 19;
  const auto q = random_values(n * h, dtype(), 54);
  const auto k = random_values(n * h, dtype(), 55);
  const auto v = random_values(n * h, dtype(), 56);
  auto slice = [&](const std::vector<float>& x) {
    return std::vector<float>(x.begin() + begin * h, x.begin() + (begin + len) * h);
  };
  const auto got_batch = run(batch, q, k, v, num_heads, h);
  const auto got_alone = run(alone, slice(q), slice(k), slice(v), num_heads, h);
  // f32 has no flash kernel: its flash variant runs the gemm path.
  const bool bitwise = path() == CudaAttention::kSimt ||
                       (path() == CudaAttention::kFlash && dtype() != DType::kF32);
  if (!bitwise) {
    const Tolerance tol = tolerance_for(dtype(), {1e-5, 1e-5}, 1.0);
    expect_close(got_alone.data(), got_batch.data() + begin * h, len * h, 2 * tol.atol, 2 * tol.rtol);
  } else {
    EXPECT_TRUE(same_bits(got_alone.data(), got_batch.data() + begin * h, len * h));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cuda, AttentionCudaTest,
    ::testing::Combine(::testing::Values(DType::kF32, DType::kF16, DType::kBF16),
                       ::testing::Values(CudaAttention::kSimt, CudaAttention::kGemm,
                                         CudaAttention::kFlash)),
    [](const ::testing::TestParamInfo<AttentionParam>& info) {
      return std::string(dtype_name(std::get<0>(info.param))) + "_" +
             path_name(std::get<1>(info.param));
    });

}  // namespace
}  // namespace bertc::test
