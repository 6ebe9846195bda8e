// Helpers for tests that run an op on the CUDA backend and compare it with bertc::ref: a fixture
// parameterized over the run precision that skips when there is no device, and host <-> device
// copies that convert through the run precision. Compiled in every build (it only uses the
// Backend interface), so the CUDA tests exist even where CUDA is not built.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cmath>
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

// Tolerances in a 16-bit run precision, on top of the op's f32 tolerance `f32`. The reference
// sees exactly the device's (rounded) inputs, and every op computes in fp32, so what the 16-bit
// format adds is its roundings: the result's, at most half an ulp of it (unit roundoff u: f16
// 2^-11, bf16 2^-8; f16 subnormals below 6e-5 round in absolute steps of 2^-25, inside f32.atol),
// hence rtol + u; and, for an op that rounds an intermediate before combining it (attention's
// probabilities), u times `scale`, the magnitude of what the rounded intermediate multiplies
// (attention: max |v|), hence atol + u · scale. Nothing here grows with how far the result is from
// zero, so outputs near 0 are checked to their own few ulps, not to an absolute 1e-3.
struct Tolerance {
  double atol;
  double rtol;
};
inline double unit_roundoff(DType dtype) {
  switch (dtype) {
    case DType::kF16: return 0x1p-11;
    case DType::kBF16: return 0x1p-8;
    default: return 0.0;
  }
}
inline Tolerance tolerance_for(DType dtype, Tolerance f32, double scale = 0.0) {
  const double u = unit_roundoff(dtype);
  return {f32.atol + u * scale, f32.rtol + u};
}

inline std::string dtype_param_name(const ::testing::TestParamInfo<DType>& info) {
  return std::string(dtype_name(info.param));
}

// Helpers for a test on a CUDA backend: make one (skipping without a device), and host <-> device
// copies through the run precision.
class CudaOpTestBase : public ::testing::Test {
 protected:
  // Makes backend_ (call from SetUp); GTEST_SKIP()s without a device.
  void make(DType dtype, CudaAttention attention = CudaAttention::kAuto) {
    if (!cuda_device_available()) GTEST_SKIP() << "no CUDA device";
    dtype_ = dtype;
    BackendOptions options;
    options.device = Device::kCuda;
    options.dtype = dtype;
    options.cuda_attention = attention;
    backend_ = make_backend(options);
  }

  DType dtype() const { return dtype_; }

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

  // Filled with NaN, so an element the op fails to write cannot pass for a result.
  Tensor empty_on_device(Shape shape) {
    return to_device(std::vector<float>(shape.numel(), std::nanf("")), shape);
  }

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

  DType dtype_ = DType::kF32;
  std::unique_ptr<Backend> backend_;
  std::vector<Buffer> buffers_;
};

// backend_ is a CUDA backend in the parameter's precision; without a device every test is
// skipped at run time.
class CudaOpTest : public CudaOpTestBase, public ::testing::WithParamInterface<DType> {
 protected:
  void SetUp() override { make(GetParam()); }
};

// Parameterized over the three run precisions.
#define BERTC_INSTANTIATE_CUDA_OP_TEST(suite)                                            \
  INSTANTIATE_TEST_SUITE_P(Cuda, suite,                                                  \
                           ::testing::Values(DType::kF32, DType::kF16, DType::kBF16),    \
                           ::bertc::test::dtype_param_name)

}  // namespace bertc::test
