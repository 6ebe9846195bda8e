// Row primitives shared by the cpu kernels: reductions and exp written so the compiler vectorizes
// them AND the summation order is fixed by the code (16 lanes, then a fixed tree), not by the
// pointer's alignment: a row must give the same bits wherever it sits in a packed batch.
// Checked through every cpu kernel's test against kernels/ref and the batch==single tests.
// Compiled into each per-ISA file that includes it, in that file's BERTC_ISA_NS (isa_ns.h).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/isa_ns.h"

namespace bertc::cpu {
inline namespace BERTC_ISA_NS {

constexpr int64_t kLanes = 16;  // one AVX-512 register of floats; two AVX2 registers

// Below this many floats of work a loop runs on the calling thread: forking and joining a team
// costs microseconds (far more on a loaded machine), more than ~128 KB of streaming work.
// Results do not depend on it: every row is computed the same way on any thread.
constexpr int64_t kMinParallelFloats = int64_t{1} << 15;

// Folds 16 lane partial sums in a fixed tree order.
inline float fold_lanes(const float* acc) {
  float a[8];
  for (int i = 0; i < 8; ++i) a[i] = acc[i] + acc[i + 8];
  for (int i = 0; i < 4; ++i) a[i] += a[i + 4];
  return (a[0] + a[2]) + (a[1] + a[3]);
}

inline float row_sum(const float* x, int64_t n) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) acc[l] += x[i + l];
  for (int64_t l = 0; i + l < n; ++l) acc[l] += x[i + l];
  return fold_lanes(acc);
}

// Sum of (x - mean)^2: the second pass of a two-pass variance (no cancellation of E[x^2]-E[x]^2).
inline float row_sq_dev(const float* x, float mean, int64_t n) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) acc[l] += (x[i + l] - mean) * (x[i + l] - mean);
  for (int64_t l = 0; i + l < n; ++l) acc[l] += (x[i + l] - mean) * (x[i + l] - mean);
  return fold_lanes(acc);
}

inline float row_dot(const float* a, const float* b, int64_t n) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) acc[l] += a[i + l] * b[i + l];
  for (int64_t l = 0; i + l < n; ++l) acc[l] += a[i + l] * b[i + l];
  return fold_lanes(acc);
}

// In place: v = (v - mean) / sqrt(var + eps) * gamma + beta over one row of n floats.
inline void layer_norm_row(float* v, const float* gamma, const float* beta, float eps, int64_t n) {
  const float mean = row_sum(v, n) / static_cast<float>(n);
  const float var = row_sq_dev(v, mean, n) / static_cast<float>(n);
  const float rstd = 1.0f / std::sqrt(var + eps);
  for (int64_t c = 0; c < n; ++c) v[c] = (v[c] - mean) * rstd * gamma[c] + beta[c];
}

// gelu(v) = 0.5 v (1 + erf(v / sqrt 2)). With z = |v| / sqrt 2 and e = erfc(z), the factor
// 1 + erf(v / sqrt 2) is 2 - e for v >= 0 and e for v < 0, so the negative tail is computed
// without cancellation. erfc from Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7), using only
// arithmetic and fast_exp.
constexpr float kGeluRsqrt2 = 0.70710678118654752f;
constexpr float kGeluP = 0.3275911f;
constexpr float kGeluA[5] = {0.254829592f, -0.284496736f, 1.421413741f, -1.453152027f, 1.061405429f};

// exp(x) from arithmetic only, so loops over it vectorize (std::exp is a libm call without
// -ffast-math). x = k ln2 + r with |r| <= ln2/2 (Cody-Waite two-part ln2), e^r by its degree-6
// Taylor polynomial (truncation < 2e-8 relative), 2^k built in the exponent bits. Within 2.8 ulp
// of exp for x in [-87.3, 88] (measured against double exp on every 7th float); below it returns
// 0 (no denormals), above +inf, NaN stays NaN.
// Callers pass x <= 0 (softmax after the max shift, -z^2 in erf).
inline float fast_exp(float x) {
  const float kLog2e = 1.44269504088896341f;
  const float kLn2Hi = 0.693145751953125f;       // ln2 with its low 12 mantissa bits zeroed,
  const float kLn2Lo = 1.42860682030941723e-6f;  // so k * kLn2Hi is exact for |k| < 2^12
  const float kRound = 12582912.0f;              // 1.5 * 2^23: adding it rounds to an integer
  const float xc = x < -87.3f ? -87.3f : (x > 88.0f ? 88.0f : x);
  const float k = (xc * kLog2e + kRound) - kRound;
  const float r = (xc - k * kLn2Hi) - k * kLn2Lo;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  const float y = p * scale;
  return x < -87.3f ? 0.0f : (x > 88.0f ? INFINITY : (x != x ? x : y));
}

}  // namespace BERTC_ISA_NS
}  // namespace bertc::cpu
