// CPU bf16 gemm: the packing (one layout for every path), the rounding of x and the portable
// path (kernels/cpu/gemm_bf16_widen.h at the baseline ISA). The AVX512-BF16 path is in
// gemm_bf16_avx512.cc, the AMX one in gemm_bf16_amx.cc. Checked against
// kernels/ref/gemm_bf16.cc and bitwise per row in tests/kernels/gemm_bf16_test.cc.
#include "kernels/gemm_bf16.h"

#include <algorithm>

#include "common/dtype.h"
#include "kernels/cpu/gemm_bf16_paths.h"
#include "kernels/cpu/gemm_bf16_widen.h"
#include "kernels/cpu/scratch.h"

namespace bertc {

void gemm_bf16_pack(const float* w, int64_t m, int64_t k, uint16_t* packed) {
  const int64_t mp = (m + 31) / 32 * 32, kt = (k + 31) / 32;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < mp; ++c) {
    for (int64_t i = 0; i < kt * 32; ++i) {
      const int64_t at = ((c / 16 * kt + i / 32) * 16 + i % 32 / 2) * 32 + c % 16 * 2 + i % 2;
      packed[at] = c < m && i < k ? f32_to_bf16(w[c * k + i]) : 0;
    }
  }
}

namespace cpu {

void gemm_bf16_round_x(const float* x, int64_t n, int64_t k, uint16_t* xb) {
  const int64_t np = (n + 31) / 32 * 32, kp = (k + 31) / 32 * 32;
#pragma omp parallel for schedule(static) if (n * k >= (int64_t{1} << 15))
  for (int64_t r = 0; r < np; ++r) {
    uint16_t* out = xb + r * kp;
    if (r >= n) {
      std::fill(out, out + kp, uint16_t{0});
      continue;
    }
    for (int64_t i = 0; i < k; ++i) out[i] = f32_to_bf16(x[r * k + i]);
    std::fill(out + k, out + kp, uint16_t{0});
  }
}

const uint16_t* gemm_bf16_rounded_x(const float* x, int64_t n, int64_t k) {
  const size_t elems = static_cast<size_t>((n + 31) / 32 * 32 * ((k + 31) / 32 * 32));
  auto* xb = static_cast<uint16_t*>(thread_scratch(ScratchSlot::kCaller, elems * sizeof(uint16_t)));
  gemm_bf16_round_x(x, n, k, xb);
  return xb;
}

void gemm_bf16(const float* x, const uint16_t* w_packed, const float* bias, float* y, int64_t n,
               int64_t m, int64_t k, Epilogue epilogue) {
  if (n == 0 || m == 0) return;
  gemm_bf16_widened(gemm_bf16_rounded_x(x, n, k), w_packed, bias, y, n, m, k, epilogue);
}

}  // namespace cpu
}  // namespace bertc
