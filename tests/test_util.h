// Test helpers shared by every bertc test: elementwise closeness with a full report of the worst
// element, seeded random fills (tests are reproducible: same seed, same inputs), whole-file reads
// and the one way tests run the built bertc binary.
#pragma once

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace bertc::test {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs `bertc ARGS` (ARGS already shell-quoted) with stdin from the file `stdin_path`. stdout and
// stderr go through files in a fresh directory, so tests that ctest runs in parallel never share them.
inline CliResult run_bertc_args(const std::string& args, const std::string& stdin_path = "/dev/null") {
  std::string dir = (std::filesystem::temp_directory_path() / "bertc_cli_XXXXXX").string();
  if (!::mkdtemp(dir.data())) return {};
  const std::string out = dir + "/out", err = dir + "/err";
  std::string cmd = "'";
  cmd.append(BERTC_BINARY).append("' ").append(args);
  cmd.append(" < '").append(stdin_path).append("' > '").append(out).append("' 2> '").append(err).append("'");
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return r;
}

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
