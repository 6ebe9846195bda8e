// CUDA pooling (cls / mean / max) against bertc::ref::pool, through the Backend, in every run
// precision, over a batch of mixed lengths; skipped without a device.
#include <gtest/gtest.h>

#include <vector>

#include "cuda_test_util.h"
#include "kernels/pooling.h"
#include "test_util.h"

namespace bertc::test {
namespace {

class PoolingCudaTest : public CudaOpTest {};

TEST_P(PoolingCudaTest, MixedLengths) {
  PackedBatch batch;
  for (int32_t len : {1, 7, 128, 3}) batch.add(std::vector<int32_t>(len, 1), {});
  const int64_t n = batch.num_tokens(), b = batch.num_seqs();
  backend_->begin_batch(batch);
  for (int64_t h : {int64_t{37}, int64_t{768}}) {
    const auto hidden = random_values(n * h, dtype(), 61);
    const Tensor dhidden = to_device(hidden, {n, h});
    for (PoolMode mode : {PoolMode::kCls, PoolMode::kMean, PoolMode::kMax, PoolMode::kPooled}) {
      SCOPED_TRACE(testing::Message() << "H=" << h << " mode=" << static_cast<int>(mode));
      std::vector<float> want(b * h);
      ref::pool(hidden.data(), batch.cu_seqlens.data(), b, h, mode, want.data());
      const Tensor out = empty_on_device({b, h});
      backend_->pool(dhidden, mode, out);
      // cls and max copy a value (exact); the mean sums <= 128 values in fp32: 1e-6.
      const Tolerance tol = tolerance_for(dtype(), {1e-6, 1e-6});
      expect_close(to_host(out), want, tol.atol, tol.rtol);
    }
  }
}

BERTC_INSTANTIATE_CUDA_OP_TEST(PoolingCudaTest);

}  // namespace
}  // namespace bertc::test
