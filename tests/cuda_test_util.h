// Helpers for tests that run an op on the CUDA backend and compare it with bertc::ref: a fixture
// parameterized over the run precision that skips when there is no device, and host <-> device
// copies that convert through the run precision. Compiled in every build (it only uses the
// Backend interface), so the CUDA tests exist even where CUDA is not built.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/make_backend.h"
#include "test_util.h"

namespace bertc::test {

// Rounds v to the nearest value of `dtype` (f32: unchanged), so the reference sees exactly the
// inputs the device sees.
inline float round_to(DType dtype, float v) {
  switch (dtype) {
    case DType::kF16: return f16_to_f32(f32_to_f16(v));
    case DType::kBF16: return bf16_to_f32(f32_to_bf16(v));
    default: return v;
  }
}

// test_util.h's random_floats, rounded to the run precision.
inline std::vector<float> random_values(int64_t n, DType dtype, uint32_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::vector<float> v = random_floats(n, seed, lo, hi);
  for (float& x : v) x = round_to(dtype, x);
  return v;
}

// Tolerances for an op whose fp32 result is stored once in the run precision: half an ulp of the
// 16-bit format relative (f16 2^-11, bf16 2^-8), doubled for the fp32 math before it, and the
// same in absolute terms for results near zero. f32 uses the op's own tolerance.
struct Tolerance {
  double atol;
  double rtol;
};
inline Tolerance tolerance_for(DType dtype, Tolerance f32) {
  switch (dtype) {
    case DType::kF16: return {f32.atol + 1e-3, f32.rtol + 1e-3};
    case DType::kBF16: return {f32.atol + 8e-3, f32.rtol + 8e-3};
    default: return f32;
  }
}

inline std::string dtype_param_name(const ::testing::TestParamInfo<DType>& info) {
  return std::string(dtype_name(info.param));
}

// Base fixture: backend_ is a CUDA backend in the parameter's precision; without a device every
// test is skipped at run time.
class CudaOpTest : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    if (!cuda_device_available()) GTEST_SKIP() << "no CUDA device";
    BackendOptions options;
    options.device = Device::kCuda;
    options.dtype = GetParam();
    backend_ = make_backend(options);
  }

  DType dtype() const { return GetParam(); }

  // A device tensor of `shape` in the run precision holding `values`, converted on the host.
  Tensor to_device(const std::vector<float>& values, Shape shape) {
    Buffer& buffer = buffers_.emplace_back(
        backend_->allocate(static_cast<size_t>(shape.numel()) * dtype_nbytes(dtype())));
    Tensor t = buffer.view(0, dtype(), shape);
    std::vector<uint16_t> half(values.size());
    const void* host = values.data();
    if (dtype() != DType::kF32) {
      for (size_t i = 0; i < values.size(); ++i)
        half[i] = dtype() == DType::kF16 ? f32_to_f16(values[i]) : f32_to_bf16(values[i]);
      host = half.data();
    }
    backend_->upload(host, t);
    return t;
  }

  Tensor empty_on_device(Shape shape) { return to_device(std::vector<float>(shape.numel()), shape); }

  std::vector<float> to_host(const Tensor& t) {
    std::vector<float> out(static_cast<size_t>(t.numel()));
    if (dtype() == DType::kF32) {
      backend_->download(t, out.data());
      return out;
    }
    std::vector<uint16_t> half(out.size());
    backend_->download(t, half.data());
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = dtype() == DType::kF16 ? f16_to_f32(half[i]) : bf16_to_f32(half[i]);
    return out;
  }

  std::unique_ptr<Backend> backend_;
  std::vector<Buffer> buffers_;
};

// Parameterized over the three run precisions.
#define BERTC_INSTANTIATE_CUDA_OP_TEST(suite)                                            \
  INSTANTIATE_TEST_SUITE_P(Cuda, suite,                                                  \
                           ::testing::Values(DType::kF32, DType::kF16, DType::kBF16),    \
                           ::bertc::test::dtype_param_name)

}  // namespace bertc::test
