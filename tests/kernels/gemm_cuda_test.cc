// CUDA gemm (cuBLASLt, or cuBLAS where cuBLASLt declines; fp32 accumulation) against
// bertc::ref::gemm, through the Backend, in every run precision: gemm, gemm_qkv (one batched
// launch at BertModel's strides, three GEMMs otherwise), gemm_bias_gelu against gemm + the GELU
// reference, and f32 with allow_tf32; skipped without a device.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "cuda_test_util.h"
#include "kernels/bias_gelu.h"
#include "kernels/gemm.h"
#include "test_util.h"

namespace bertc::test {
namespace {

struct GemmCase {
  int64_t n, m, k;
  bool bias;
};

class GemmCudaTest : public CudaOpTest {
 protected:
  void check(const GemmCase& c) {
    SCOPED_TRACE(::testing::Message() << "n=" << c.n << " m=" << c.m << " k=" << c.k
                                    << " bias=" << c.bias);
    const auto x = random_values(c.n * c.k, dtype(), 1);
    const auto w = random_values(c.m * c.k, dtype(), 2);
    const auto bias = random_values(c.m, dtype(), 3);
    std::vector<float> want(c.n * c.m);
    ref::gemm(x.data(), w.data(), c.bias ? bias.data() : nullptr, want.data(), c.n, c.m, c.k);

    const Tensor dx = to_device(x, {c.n, c.k});
    const Tensor dw = to_device(w, {c.m, c.k});
    const Tensor dbias = c.bias ? to_device(bias, {c.m}) : Tensor{};
    const Tensor dy = empty_on_device({c.n, c.m});
    backend_->gemm(dx, dw, dbias, dy);
    // fp32 sums of k products of values in [-1, 1]: the rounding error grows with k (about
    // sqrt(k) * 2^-24 * sqrt(k) in magnitude), so atol scales with k; 3e-7 * k is 1e-3 at k=3072
    // on results of magnitude ~sqrt(k/9) ~ 18, i.e. rtol ~5e-5. TF32 (10-bit mantissa) would
    // miss this by two orders of magnitude, which is how this test shows f32 is true fp32.
    const double f32_atol = 1e-6 + 3e-7 * static_cast<double>(c.k);
    const Tolerance tol = tolerance_for(dtype(), {f32_atol, 1e-5});
    expect_close(to_host(dy), want, tol.atol, tol.rtol);
  }
};

TEST_P(GemmCudaTest, OddSizes) {
  for (const GemmCase& c : {GemmCase{1, 1, 1, false}, GemmCase{1, 1, 1, true},
                            GemmCase{7, 37, 769, true}, GemmCase{37, 769, 7, false},
                            GemmCase{5, 3, 0, true}})
    check(c);
}

TEST_P(GemmCudaTest, BertSizes) {
  for (const GemmCase& c : {GemmCase{128, 2304, 768, true}, GemmCase{128, 3072, 768, false},
                            GemmCase{128, 768, 3072, false}, GemmCase{7, 768, 768, true}})
    check(c);
}

// Three projections of one x, as BertModel lays them out (w, bias, y each at one stride in one
// buffer: the batched cuBLASLt launch) and at unrelated addresses (three GEMMs).
TEST_P(GemmCudaTest, QkvAtOneStrideAndApart) {
  for (const GemmCase& c : {GemmCase{37, 96, 64, true}, GemmCase{128, 768, 768, true},
                            GemmCase{5, 37, 19, true}}) {
    SCOPED_TRACE(::testing::Message() << "n=" << c.n << " m=" << c.m << " k=" << c.k);
    const auto x = random_values(c.n * c.k, dtype(), 4);
    const Tensor dx = to_device(x, {c.n, c.k});
    std::array<std::vector<float>, 3> w, b, want;
    for (int i = 0; i < 3; ++i) {
      w[i] = random_values(c.m * c.k, dtype(), 10 + i);
      b[i] = random_values(c.m, dtype(), 20 + i);
      want[i].resize(c.n * c.m);
      ref::gemm(x.data(), w[i].data(), b[i].data(), want[i].data(), c.n, c.m, c.k);
    }
    // One buffer each for the weights, biases and outputs, 64-byte-aligned parts.
    auto strided = [&](const std::array<std::vector<float>, 3>& parts, Shape shape, bool fill) {
      const size_t part = (static_cast<size_t>(shape.numel()) * dtype_nbytes(dtype()) + 63) / 64 * 64;
      Buffer& buf = buffers_.emplace_back(backend_->allocate(3 * part));
      std::array<Tensor, 3> out;
      for (int i = 0; i < 3; ++i) {
        out[i] = buf.view(i * part, dtype(), shape);
        const Tensor src = fill ? to_device(parts[i], shape) : empty_on_device(shape);
        std::vector<char> bytes(src.nbytes());
        backend_->download(src, bytes.data());
        backend_->upload(bytes.data(), out[i]);
      }
      return out;
    };
    const std::array<Tensor, 3> sw = strided(w, {c.m, c.k}, true), sb = strided(b, {c.m}, true),
                                sy = strided(want, {c.n, c.m}, false);
    const std::array<Tensor, 3> aw = {to_device(w[0], {c.m, c.k}), to_device(w[1], {c.m, c.k}),
                                      to_device(w[2], {c.m, c.k})};
    const std::array<Tensor, 3> ab = {to_device(b[0], {c.m}), to_device(b[1], {c.m}),
                                      to_device(b[2], {c.m})};
    const std::array<Tensor, 3> ay = {empty_on_device({c.n, c.m}), empty_on_device({c.n, c.m}),
                                      empty_on_device({c.n, c.m})};
    backend_->gemm_qkv(dx, sw, sb, sy);
    backend_->gemm_qkv(dx, aw, ab, ay);
    const double f32_atol = 1e-6 + 3e-7 * static_cast<double>(c.k);
    const Tolerance tol = tolerance_for(dtype(), {f32_atol, 1e-5});
    for (int i = 0; i < 3; ++i) {
      expect_close(to_host(sy[i]), want[i], tol.atol, tol.rtol);
      expect_close(to_host(ay[i]), want[i], tol.atol, tol.rtol);
    }
  }
}

// The FFN's first layer on its own: gelu_erf(x · w^T + bias), against the reference GEMM then
// the reference bias + GELU (on the fp32 product, so the 16-bit variants round once more on
// the device, before GELU: hence 2u).
TEST_P(GemmCudaTest, GemmBiasGelu) {
  for (const GemmCase& c : {GemmCase{7, 37, 769, true}, GemmCase{128, 3072, 768, true},
                            GemmCase{64, 1536, 384, true}}) {
    SCOPED_TRACE(::testing::Message() << "n=" << c.n << " m=" << c.m << " k=" << c.k);
    // Weights of 0.1 keep most pre-activations in GELU's curved part (a few units).
    const auto x = random_values(c.n * c.k, dtype(), 5);
    const auto w = random_values(c.m * c.k, dtype(), 6, -0.1f, 0.1f);
    const auto bias = random_values(c.m, dtype(), 7);
    std::vector<float> want(c.n * c.m);
    ref::gemm(x.data(), w.data(), nullptr, want.data(), c.n, c.m, c.k);
    double pre_max = 0;  // the largest pre-activation |x · w + bias|
    for (int64_t i = 0; i < c.n * c.m; ++i)
      pre_max = std::max(pre_max, std::fabs(double{want[i]} + bias[i % c.m]));
    ref::bias_gelu(want.data(), bias.data(), c.n, c.m);
    const Tensor dy = empty_on_device({c.n, c.m});
    backend_->gemm_bias_gelu(to_device(x, {c.n, c.k}), to_device(w, {c.m, c.k}),
                             to_device(bias, {c.m}), dy);
    // The GEMM's f32 error passes through GELU (slope at most 1.13) about unchanged. In 16 bits
    // the pre-activation is rounded once (in y) before the GELU pass, by u of itself: after
    // GELU at most 1.13 u · pre_max (1.13 u · (pre_max + 1) where cuBLASLt declines and the bias
    // is added after the rounding); then the result's own rounding (rtol + u).
    const double f32_atol = 1e-6 + 3e-7 * static_cast<double>(c.k);
    const Tolerance tol = tolerance_for(dtype(), {1.13 * f32_atol, 2e-5}, 1.13 * (pre_max + 1.0));
    expect_close(to_host(dy), want, tol.atol, tol.rtol);
  }
}

// allow_tf32: f32 inputs rounded to TF32's 10-bit mantissa (relative 2^-11 each), products
// summed in fp32: |error| <= 2 · 2^-11 · sum |x_i w_i|, about k / 4 for values in [-1, 1].
TEST_P(GemmCudaTest, AllowTf32) {
  if (dtype() != DType::kF32) GTEST_SKIP() << "TF32 applies to the f32 run precision only";
  BackendOptions options;
  options.device = Device::kCuda;
  options.dtype = DType::kF32;
  options.allow_tf32 = true;
  backend_ = make_backend(options);
  for (const GemmCase& c : {GemmCase{128, 768, 768, true}, GemmCase{7, 37, 769, false}}) {
    SCOPED_TRACE(::testing::Message() << "n=" << c.n << " m=" << c.m << " k=" << c.k);
    const auto x = random_values(c.n * c.k, dtype(), 8);
    const auto w = random_values(c.m * c.k, dtype(), 9);
    const auto bias = random_values(c.m, dtype(), 10);
    std::vector<float> want(c.n * c.m);
    ref::gemm(x.data(), w.data(), c.bias ? bias.data() : nullptr, want.data(), c.n, c.m, c.k);
    const Tensor dy = empty_on_device({c.n, c.m});
    backend_->gemm(to_device(x, {c.n, c.k}), to_device(w, {c.m, c.k}),
                   c.bias ? to_device(bias, {c.m}) : Tensor{}, dy);
    expect_close(to_host(dy), want, 2 * 0x1p-11 * static_cast<double>(c.k) / 4 * 2, 0.0);
  }
}

BERTC_INSTANTIATE_CUDA_OP_TEST(GemmCudaTest);

}  // namespace
}  // namespace bertc::test
