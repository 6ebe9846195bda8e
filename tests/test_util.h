// Test helpers shared by every bertc test: elementwise closeness with a full report of the worst
// element, and seeded random fills (tests are reproducible: same seed, same inputs).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <sstream>
#include <vector>

namespace bertc::test {

// Checks |got[i] - want[i]| <= atol + rtol * |want[i]| for EVERY i (a NaN or inf fails unless
// both sides are the same inf). On failure reports the first failing index, the number of
// failures, and the worst element with its got / want / abs / rel error.
inline ::testing::AssertionResult close_all(const float* got, const float* want, int64_t n,
                                            double atol, double rtol) {
  int64_t failures = 0, first = -1, worst = -1;
  double worst_excess = -1, max_abs = 0, max_rel = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double g = got[i], w = want[i];
    const double abs_err = (g == w) ? 0.0 : std::fabs(g - w);  // same inf counts as equal
    const double rel_err = w != 0 ? abs_err / std::fabs(w) : (abs_err == 0 ? 0.0 : INFINITY);
    const bool ok = abs_err <= atol + rtol * std::fabs(w);  // false for NaN
    if (!std::isnan(abs_err)) {
      max_abs = std::max(max_abs, abs_err);
      max_rel = std::max(max_rel, rel_err);
    }
    if (!ok) {
      ++failures;
      if (first < 0) first = i;
      const double excess = std::isnan(abs_err) ? INFINITY : abs_err - (atol + rtol * std::fabs(w));
      if (excess > worst_excess) {
        worst_excess = excess;
        worst = i;
      }
    }
  }
  if (failures == 0) return ::testing::AssertionSuccess();
  std::ostringstream msg;
  msg.precision(9);
  msg << failures << " of " << n << " elements differ (atol " << atol << ", rtol " << rtol
      << "); first at " << first << "; worst at " << worst << ": got " << got[worst] << ", want "
      << want[worst] << "; max abs " << max_abs << ", max rel " << max_rel;
  return ::testing::AssertionFailure() << msg.str();
}

inline void expect_close(const float* got, const float* want, int64_t n, double atol,
                         double rtol) {
  EXPECT_TRUE(close_all(got, want, n, atol, rtol));
}

inline void expect_close(const std::vector<float>& got, const std::vector<float>& want,
                         double atol, double rtol) {
  ASSERT_EQ(got.size(), want.size());
  expect_close(got.data(), want.data(), static_cast<int64_t>(got.size()), atol, rtol);
}

// Bitwise equality (NaNs with the same payload compare equal); reports the first difference.
inline ::testing::AssertionResult same_bits(const float* got, const float* want, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (std::memcmp(got + i, want + i, sizeof(float)) != 0) {
      std::ostringstream msg;
      msg.precision(9);
      msg << "bits differ at " << i << " of " << n << ": got " << got[i] << ", want " << want[i];
      return ::testing::AssertionFailure() << msg.str();
    }
  }
  return ::testing::AssertionSuccess();
}

// Uniform floats in [lo, hi) from a fixed seed.
inline std::vector<float> random_floats(int64_t n, uint32_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(gen);
  return v;
}

// Uniform integers in [lo, hi] from a fixed seed.
inline std::vector<int32_t> random_ints(int64_t n, uint32_t seed, int32_t lo, int32_t hi) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int32_t> dist(lo, hi);
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (int32_t& x : v) x = dist(gen);
  return v;
}

// cu_seqlens [lengths.size() + 1] for packed sequences of the given lengths.
inline std::vector<int32_t> cu_seqlens_of(const std::vector<int32_t>& lengths) {
  std::vector<int32_t> cu{0};
  for (int32_t len : lengths) cu.push_back(cu.back() + len);
  return cu;
}

}  // namespace bertc::test
