// common/dtype.h conversions: f16 against the compiler's IEEE binary16 type (_Float16; on aarch64
// __fp16, as GCC 12 has no C++ _Float16 there; both round to nearest even) on every f16 value,
// every tie and a stride through all f32 bit patterns; bf16 against a bit-level reference written
// here from the definition.
#include "common/dtype.h"

#include <gtest/gtest.h>

#include <cmath>

namespace bertc {
namespace {

#if defined(__aarch64__)
using GccHalf = __fp16;
#else
using GccHalf = _Float16;
#endif

uint16_t f16_bits_gcc(float f) {
  GccHalf h = static_cast<GccHalf>(f);
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}

// bf16 = the top 16 bits of f32, rounded to nearest even on the low 16; NaN stays a quiet NaN.
uint16_t bf16_reference(uint32_t u) {
  if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x7fffffu)) return static_cast<uint16_t>((u >> 16) | 0x40);
  uint32_t hi = u >> 16, lo = u & 0xffffu;
  if (lo > 0x8000u || (lo == 0x8000u && (hi & 1u))) ++hi;
  return static_cast<uint16_t>(hi);
}

bool same_f16(uint16_t a, uint16_t b) {
  bool nan_a = (a & 0x7c00) == 0x7c00 && (a & 0x3ff), nan_b = (b & 0x7c00) == 0x7c00 && (b & 0x3ff);
  return nan_a || nan_b ? nan_a == nan_b && (a & 0x8000) == (b & 0x8000) : a == b;
}

void check_f32(uint32_t u) {
  float f = f32_from_bits(u);
  ASSERT_TRUE(same_f16(f32_to_f16(f), f16_bits_gcc(f))) << std::hex << "f32 0x" << u << " -> 0x"
      << f32_to_f16(f) << ", gcc 0x" << f16_bits_gcc(f);
  ASSERT_EQ(f32_to_bf16(f), bf16_reference(u)) << std::hex << "f32 0x" << u;
}

TEST(DType, F16ToF32IsExactForEveryValue) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    GccHalf g;
    uint16_t hb = static_cast<uint16_t>(h);
    std::memcpy(&g, &hb, 2);
    float want = static_cast<float>(g);
    float got = f16_to_f32(hb);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got)) << h;
    } else {
      ASSERT_EQ(f32_bits(got), f32_bits(want)) << std::hex << h;
    }
    // Round trip is exact, except that signalling NaNs come back quiet (same sign, still NaN).
    ASSERT_TRUE(same_f16(f32_to_f16(got), hb)) << "round trip " << std::hex << h;
    if (!std::isnan(got)) {
      ASSERT_EQ(f32_to_f16(got), hb) << "round trip " << std::hex << h;
    }
  }
}

TEST(DType, F32ToF16AndBf16AtEveryTieAndNeighbour) {
  // Every f16 value's upper halfway point and the f32 values one ulp either side of it: the cases
  // where round-to-nearest-even differs from truncation or from rounding half up.
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    float lo = f16_to_f32(static_cast<uint16_t>(h)), hi = f16_to_f32(static_cast<uint16_t>(h + 1));
    uint32_t mid = f32_bits(static_cast<float>((static_cast<double>(lo) + hi) / 2));
    for (uint32_t u : {mid - 1, mid, mid + 1}) {
      check_f32(u);
      check_f32(u | 0x80000000u);
    }
  }
  for (uint32_t hi = 0; hi < 0x10000; ++hi) {  // bf16 ties
    check_f32((hi << 16) | 0x8000u);
    check_f32((hi << 16) | 0x7fffu);
  }
}

TEST(DType, F32ToF16AndBf16OnAStrideThroughAllBits) {
  // 2^32 / 251 = 17M patterns, every exponent and many mantissas; well under a second.
  for (uint64_t u = 0; u <= 0xffffffffull; u += 251) check_f32(static_cast<uint32_t>(u));
  for (uint32_t u : {0x7f800000u, 0xff800000u, 0x7fc00000u, 0x7f800001u, 0x477ff000u, 0x477fefffu,
                     0x33000000u, 0x33000001u, 0x387fe000u})
    check_f32(u);
}

}  // namespace
}  // namespace bertc
