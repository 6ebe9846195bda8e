// AMX bf16 gemm: 32 x 32 blocks of y from four 16 x 16 fp32 accumulator tiles, two tiles of x
// rows and two of packed w per 32-wide k step (the eight tiles AMX has).
//
// Why AMX: one TDPBF16PS does 16 x 16 x 32 multiply-adds; on this project's Xeon one core runs
// ~3.8 TFLOP/s of them (measured: independent TDPBF16PS chains) against ~0.245 for AVX-512 fp32
// FMAs, so the products stop being the cost and moving x and w through the caches becomes it.
//
// Why a row's bits never depend on n or the threads: each accumulator element sums its own row
// of x against one column of w, k step by k step in increasing order, whatever block or thread it
// falls in; padding rows of x are zeros that only feed padding rows of the accumulators.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "kernels/cpu/gemm_bf16_widen.h"  // gemm_bf16_store
#include "kernels/cpu/kernels_amx.h"
#include "kernels/cpu/scratch.h"

namespace bertc::cpu::amx {
namespace {

constexpr int64_t kTileElems = 512;         // bf16 in one packed 16 x 32 tile of w (1 KB)
constexpr int64_t kXBlockBytes = 512 * 1024;  // the x rows of a task stay in L2 across its columns
constexpr int64_t kColChunk = 128;           // output columns per task: 6 tasks at m = 768

// Palette 1, eight tiles of 16 rows x 64 bytes: 0-3 the fp32 accumulators (16 x 16), 4-5 x
// (16 rows x 32 bf16), 6-7 w (16 k pairs x 16 columns).
struct alignas(64) TileConfig {
  uint8_t palette_id = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {64, 64, 64, 64, 64, 64, 64, 64};
  uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 16, 16};
};

// Rows [r0, r1) (multiples of 32 in the padded x) x columns [c0, c1) (multiples of 32 in the
// padded w) on the calling thread, whose tile configuration is loaded.
void block(const uint16_t* xt, const uint16_t* w_packed, const float* bias, float* y,
           int64_t n, int64_t m, int64_t kt, int64_t r0, int64_t r1, int64_t c0,
           int64_t c1, Epilogue epilogue) {
  alignas(64) float sums[32 * 32];
  for (int64_t c = c0; c < c1; c += 32) {
    const uint16_t* w0 = w_packed + c / 16 * kt * kTileElems;  // columns c .. c + 15
    const uint16_t* w1 = w0 + kt * kTileElems;                  // columns c + 16 .. c + 31
    for (int64_t r = r0; r < r1; r += 32) {
      const uint16_t* x0 = xt + r / 16 * kt * kTileElems;  // rows r .. r + 15, tile by tile
      const uint16_t* x1 = x0 + kt * kTileElems;          // rows r + 16 .. r + 31
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
      for (int64_t t = 0; t < kt; ++t) {
        if (r == r0) {  // the first row pair pulls this column pair's w tiles in, 2 steps ahead
          const char* next0 = reinterpret_cast<const char*>(w0 + (t + 2) * kTileElems);
          const char* next1 = reinterpret_cast<const char*>(w1 + (t + 2) * kTileElems);
          for (int line = 0; line < 16 && t + 2 < kt; ++line) {
            _mm_prefetch(next0 + line * 64, _MM_HINT_T0);
            _mm_prefetch(next1 + line * 64, _MM_HINT_T0);
          }
        }
        _tile_loadd(4, x0 + t * kTileElems, 64);
        _tile_loadd(5, x1 + t * kTileElems, 64);
        _tile_loadd(6, w0 + t * kTileElems, 64);
        _tile_loadd(7, w1 + t * kTileElems, 64);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
      }
      _tile_stored(0, sums, 128);
      _tile_stored(1, sums + 16, 128);
      _tile_stored(2, sums + 16 * 32, 128);
      _tile_stored(3, sums + 16 * 32 + 16, 128);
      gemm_bf16_store(sums, bias ? bias + c : nullptr, y + r * m + c, m,
                      std::min<int64_t>(32, n - r), std::min<int64_t>(32, m - c), epilogue);
    }
  }
}

// Rounds rows [16 rt, 16 rt + 16) of x to bf16 straight into their tiles (VCVTNE2PS2BF16: round to
// nearest even, as f32_to_bf16), zeros past n and k.
void round_into_tiles(const float* x, int64_t n, int64_t k, int64_t kt, int64_t rt, uint16_t* xt) {
  for (int64_t t = 0; t < kt; ++t) {
    const int64_t i0 = t * 32;
    const int64_t width = std::min<int64_t>(32, k - i0);
    const __mmask16 lo_mask = static_cast<__mmask16>(width >= 16 ? 0xffff : (1u << width) - 1);
    const __mmask16 hi_mask =
        static_cast<__mmask16>(width >= 32 ? 0xffff : width <= 16 ? 0 : (1u << (width - 16)) - 1);
    uint16_t* tile = xt + (rt * kt + t) * kTileElems;
    for (int64_t i = 0; i < 16; ++i) {
      const int64_t r = rt * 16 + i;
      __m512i packed = _mm512_setzero_si512();
      if (r < n) {
        const float* row = x + r * k + i0;
        const __m512 lo = _mm512_maskz_loadu_ps(lo_mask, row);
        const __m512 hi = _mm512_maskz_loadu_ps(hi_mask, row + 16);
        packed = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
      }
      _mm512_storeu_si512(tile + i * 32, packed);
    }
  }
}

}  // namespace

// Every CPU with AMX-BF16 also has AVX512-BF16 (Sapphire Rapids onwards), used to round x; the
// plan runs this only where Linux granted the tile state (kernels/cpu/cpu_features.h).
void gemm_bf16(const float* x, const uint16_t* w_packed, const float* bias, float* y, int64_t n,
               int64_t m, int64_t k, Epilogue epilogue) {
  if (n == 0 || m == 0) return;
  const int64_t kt = (k + 31) / 32;
  const int64_t np = (n + 31) / 32 * 32, mp = (m + 31) / 32 * 32;
  const int64_t block_rows = std::max<int64_t>(32, kXBlockBytes / (std::max<int64_t>(kt, 1) * 64) / 32 * 32);
  const int64_t row_blocks = (np + block_rows - 1) / block_rows;
  const int64_t col_chunks = (mp + kColChunk - 1) / kColChunk;
  const bool parallel = row_blocks * col_chunks > 1 && n * m * k >= (int64_t{1} << 20);
  // x rounded into tiles: [row tile][k step] of 16 rows x 32 k, 1 KB contiguous each, so that a
  // tile load reads 16 consecutive lines. The caller thread's scratch; grows to the largest batch.
  auto* xt = static_cast<uint16_t*>(
      thread_scratch(ScratchSlot::kCaller, static_cast<size_t>(np * kt * 32) * sizeof(uint16_t)));
#pragma omp parallel if (parallel)
  {
#pragma omp for schedule(static)
    for (int64_t rt = 0; rt < np / 16; ++rt) round_into_tiles(x, n, k, kt, rt, xt);
    // The tile configuration is per thread: every thread of the team loads its own.
    const TileConfig config;
    _tile_loadconfig(&config);
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < row_blocks * col_chunks; ++t) {
      const int64_t r0 = t / col_chunks * block_rows, c0 = t % col_chunks * kColChunk;
      block(xt, w_packed, bias, y, n, m, kt, r0, std::min(np, r0 + block_rows), c0,
            std::min(mp, c0 + kColChunk), epilogue);
    }
  }
}

}  // namespace bertc::cpu::amx
