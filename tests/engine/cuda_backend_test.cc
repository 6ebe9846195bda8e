// The CUDA backend as a whole: selection without a device (runs everywhere, including CPU-only
// builds and machines without a driver), and, with a device, weight conversion at load, the
// batch workspace growing past its initial capacity, and the shared dtype checks.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/pooling.h"
#include "test_util.h"

namespace bertc::test {
namespace {

TEST(CudaBackendSelection, NoDeviceIsAClearError) {
  bool available = false;
  ASSERT_NO_THROW(available = cuda_device_available());  // no driver must not throw or abort
  if (available) GTEST_SKIP() << "a CUDA device is present";
  BackendOptions options;
  options.device = Device::kCuda;
  try {
    make_backend(options);
    FAIL() << "make_backend(cuda) succeeded without a device";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(cuda_built() ? "no CUDA device found" : "built without CUDA support"),
              std::string::npos)
        << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
  }
  EXPECT_EQ(resolve_device("auto"), Device::kCpu);
}

class CudaBackendTest : public CudaOpTest {};

// Weights are converted on the host with bertc's own round-to-nearest-even, so the arena holds
// exactly f32_to_f16 / f32_to_bf16 of each value, 64-byte aligned, at the offsets a size-only
// pass (arena == nullptr) predicted.
TEST_P(CudaBackendTest, PrepareWeightConvertsAtLoad) {
  const auto a = random_floats(37, 81);
  const auto b = random_floats(3 * 5, 82);
  const Tensor host_a{const_cast<float*>(a.data()), DType::kF32, {37}, Device::kCpu};
  const Tensor host_b{const_cast<float*>(b.data()), DType::kF32, {3, 5}, Device::kCpu};
  size_t size = 0;
  backend_->prepare_weight(host_a, nullptr, size);
  backend_->prepare_weight(host_b, nullptr, size);
  Buffer arena = backend_->allocate(size);
  size_t offset = 0;
  const Tensor dev_a = backend_->prepare_weight(host_a, &arena, offset);
  const Tensor dev_b = backend_->prepare_weight(host_b, &arena, offset);
  EXPECT_EQ(offset, size);
  EXPECT_EQ(dev_b.shape, host_b.shape);
  EXPECT_EQ(dev_b.dtype, dtype());
  EXPECT_EQ((static_cast<char*>(dev_b.data) - static_cast<char*>(arena.data())) % 64, 0);

  for (const auto& [dev, host] : {std::pair{dev_a, a}, std::pair{dev_b, b}}) {
    const size_t width = dtype_nbytes(dtype());
    std::vector<char> got(dev.nbytes()), want(dev.nbytes());
    backend_->download(dev, got.data());
    for (size_t i = 0; i < host.size(); ++i) {
      const uint16_t h = dtype() == DType::kF16 ? f32_to_f16(host[i]) : f32_to_bf16(host[i]);
      std::memcpy(want.data() + i * width, dtype() == DType::kF32 ? static_cast<const void*>(&host[i]) : &h,
                  width);
    }
    EXPECT_EQ(got, want);
  }
}

// A 16-bit weight file is widened or converted the same way: f16 -> run precision via fp32.
TEST_P(CudaBackendTest, PrepareWeightFromF16File) {
  const auto values = random_values(64, DType::kF16, 83);
  std::vector<uint16_t> bits(values.size());
  for (size_t i = 0; i < values.size(); ++i) bits[i] = f32_to_f16(values[i]);
  const Tensor host{bits.data(), DType::kF16, {8, 8}, Device::kCpu};
  size_t size = 0;
  backend_->prepare_weight(host, nullptr, size);
  Buffer arena = backend_->allocate(size);
  size_t offset = 0;
  const Tensor dev = backend_->prepare_weight(host, &arena, offset);
  std::vector<float> want(values.size());
  for (size_t i = 0; i < values.size(); ++i) want[i] = round_to(dtype(), values[i]);
  EXPECT_TRUE(same_bits(to_host(dev).data(), want.data(), 64));
}

// The batch workspace starts at BackendOptions' capacity and grows for a larger batch
// (between batches, never inside the forward pass).
TEST_P(CudaBackendTest, BatchLargerThanWorkspaceGrows) {
  BackendOptions options;
  options.device = Device::kCuda;
  options.dtype = dtype();
  options.max_tokens = 4;
  options.max_seqs = 1;
  backend_ = make_backend(options);
  PackedBatch batch;
  for (int32_t len : {100, 3, 250}) batch.add(std::vector<int32_t>(len, 1), {});
  backend_->begin_batch(batch);
  const int64_t n = batch.num_tokens(), b = batch.num_seqs(), h = 16;
  const auto hidden = random_values(n * h, dtype(), 84);
  std::vector<float> want(b * h);
  ref::pool(hidden.data(), batch.cu_seqlens.data(), b, h, PoolMode::kMean, want.data());
  const Tensor out = empty_on_device({b, h});
  backend_->pool(to_device(hidden, {n, h}), PoolMode::kMean, out);
  // Means of <= 250 values: fp32 sums (1e-6), 16-bit output rounding.
  const Tolerance tol = tolerance_for(dtype(), {1e-6, 1e-6});
  expect_close(to_host(out), want, tol.atol, tol.rtol);
}

// begin_batch copies from pinned memory, truly asynchronously: a second batch staged before the
// first one's ops have run must not change what those ops read.
TEST_P(CudaBackendTest, BatchesStagedBackToBack) {
  PackedBatch first, second;
  for (int32_t len : {3, 50, 7}) first.add(std::vector<int32_t>(len, 1), {});
  for (int32_t len : {9, 1}) second.add(std::vector<int32_t>(len, 2), {});
  const int64_t h = 24;
  const auto hidden = random_values(first.num_tokens() * h, dtype(), 85);
  const Tensor dhidden = to_device(hidden, {first.num_tokens(), h});
  std::vector<float> want1(first.num_seqs() * h), want2(second.num_seqs() * h);
  ref::pool(hidden.data(), first.cu_seqlens.data(), first.num_seqs(), h, PoolMode::kMean, want1.data());
  ref::pool(hidden.data(), second.cu_seqlens.data(), second.num_seqs(), h, PoolMode::kMean, want2.data());
  const Tensor out1 = empty_on_device({first.num_seqs(), h});
  const Tensor out2 = empty_on_device({second.num_seqs(), h});
  backend_->begin_batch(first);
  backend_->pool(dhidden, PoolMode::kMean, out1);
  backend_->begin_batch(second);
  backend_->pool(dhidden.rows(0, second.num_tokens()), PoolMode::kMean, out2);
  const Tolerance tol = tolerance_for(dtype(), {1e-6, 1e-6});
  expect_close(to_host(out1), want1, tol.atol, tol.rtol);
  expect_close(to_host(out2), want2, tol.atol, tol.rtol);
}

// Activations must be in the run precision: the base class rejects anything else, with the
// same words as on the CPU.
TEST_P(CudaBackendTest, RejectsWrongDtype) {
  const DType other = dtype() == DType::kF32 ? DType::kF16 : DType::kF32;
  Buffer buffer = backend_->allocate(4 * 4 * 4);
  const Tensor x = buffer.view(0, other, {2, 2});
  try {
    backend_->tanh(x);
    FAIL() << "tanh accepted a " << dtype_name(other) << " tensor";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(str_cat("has dtype ", dtype_name(other))), std::string::npos) << what;
  }
}

BERTC_INSTANTIATE_CUDA_OP_TEST(CudaBackendTest);

}  // namespace
}  // namespace bertc::test
