// CPU bf16 gemm: packing, the rounding of x, the portable path and the dispatch. The AMX path is
// in gemm_bf16_amx.cc. Checked against kernels/ref/gemm_bf16.cc and bitwise per row in
// tests/kernels/gemm_bf16_test.cc.
#include "kernels/gemm_bf16.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "engine/dtype.h"
#include "kernels/bias_gelu.h"
#include "kernels/cpu/gemm_bf16_paths.h"

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

void gemm_bf16_store(const float* sums, const float* bias, float* y, int64_t m, int64_t rows,
                     int64_t cols, Epilogue epilogue) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) y[r * m + c] = sums[r * 32 + c] + (bias ? bias[c] : 0.0f);
  if (epilogue == Epilogue::kBiasGelu) gelu_block(y, m, rows, cols);
}

// One 32 x 32 block at a time, each sum in lane order over k: the loops over the 16 columns of a
// packed row vectorize.
void gemm_bf16_portable(const uint16_t* xb, const uint16_t* w_packed, const float* bias, float* y,
                        int64_t n, int64_t m, int64_t k, Epilogue epilogue) {
  const int64_t kt = (k + 31) / 32, kp = kt * 32;
  const int64_t row_blocks = (n + 31) / 32, col_blocks = (m + 31) / 32;
#pragma omp parallel for schedule(dynamic) if (n * m * k >= (int64_t{1} << 18))
  for (int64_t t = 0; t < row_blocks * col_blocks; ++t) {
    const int64_t r0 = t / col_blocks * 32, c0 = t % col_blocks * 32;
    float sums[32 * 32] = {};
    for (int64_t r = 0; r < 32; ++r) {
      const uint16_t* xr = xb + (r0 + r) * kp;
      for (int64_t half = 0; half < 2; ++half) {
        const uint16_t* tiles = w_packed + (c0 / 16 + half) * kt * 512;
        float* acc = sums + r * 32 + half * 16;
        for (int64_t p = 0; p < kt * 16; ++p) {
          const float a0 = bf16_to_f32(xr[2 * p]), a1 = bf16_to_f32(xr[2 * p + 1]);
          const uint16_t* row = tiles + p * 32;  // tile p / 16, pair row p % 16: consecutive
          for (int64_t c = 0; c < 16; ++c)
            acc[c] += a0 * bf16_to_f32(row[2 * c]) + a1 * bf16_to_f32(row[2 * c + 1]);
        }
      }
    }
    gemm_bf16_store(sums, bias ? bias + c0 : nullptr, y + r0 * m + c0, m,
                    std::min<int64_t>(32, n - r0), std::min<int64_t>(32, m - c0), epilogue);
  }
}

void gemm_bf16(const float* x, const uint16_t* w_packed, const float* bias, float* y, int64_t n,
               int64_t m, int64_t k, Epilogue epilogue) {
  if (n == 0 || m == 0) return;
  // BERTC_GEMM=portable keeps the plain loops on any CPU, to rule the AMX kernel out when chasing
  // a difference. Read once: a process never mixes two paths' bits.
  static const bool amx = [] {
    const char* env = std::getenv("BERTC_GEMM");
    return !(env && std::strcmp(env, "portable") == 0) && has_amx_bf16();
  }();
  // The caller thread's scratch: OpenMP threads only read it. Grows to the largest batch once.
  static thread_local std::vector<uint16_t> xb;
  const size_t need = static_cast<size_t>((n + 31) / 32 * 32 * ((k + 31) / 32 * 32));
  if (xb.size() < need) xb.resize(need);
  gemm_bf16_round_x(x, n, k, xb.data());
  if (amx) return gemm_bf16_amx(xb.data(), w_packed, bias, y, n, m, k, epilogue);
  gemm_bf16_portable(xb.data(), w_packed, bias, y, n, m, k, epilogue);
}

}  // namespace cpu
}  // namespace bertc
