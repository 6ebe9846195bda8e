// CPU bf16 gemm: packing, the rounding of x, the portable path and the dispatch. The AMX path is
// in gemm_bf16_amx.cc, the AVX512-BF16 one in gemm_bf16_avx512.cc. Checked against
// kernels/ref/gemm_bf16.cc and bitwise per row in tests/kernels/gemm_bf16_test.cc.
#include "kernels/gemm_bf16.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "common/dtype.h"
#include "common/error.h"
#include "kernels/bias_gelu.h"
#include "kernels/cpu/gemm_bf16_paths.h"
#include "kernels/cpu/gemm_tasks.h"

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

namespace {

// The portable path runs on the vectors -march gives (GCC/clang vector extensions, no
// intrinsics). Its micro-tile is kTileRows rows x kTileVecs vectors of widened packed w, sized so
// that the accumulators, one row of w and a broadcast fill the register file (32 registers with
// AVX-512, else 16).
#if defined(__AVX512F__)
constexpr int kLanes = 16, kTileRows = 6, kTileVecs = 4;
#elif defined(__AVX__)
constexpr int kLanes = 8, kTileRows = 3, kTileVecs = 4;
#else
constexpr int kLanes = 4, kTileRows = 3, kTileVecs = 4;
#endif
constexpr int kTileCols = kTileVecs * kLanes / 2;  // a packed row holds k pairs of 16 columns
static_assert(32 % kTileCols == 0, "a micro-tile must not straddle a 32-column group");
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));
typedef int64_t VecPair __attribute__((vector_size(kLanes * sizeof(float))));
constexpr int64_t kXfBytes = 768 * 1024;    // a task's rows of x, widened, stay in L2
constexpr int64_t kPortableColChunk = 128;  // output columns per task
constexpr int64_t kPairBlock = 128;  // k pairs per pass: <= 32 KB of widened w per micro-tile

// The sums may use FMA: every lane of every row runs the same vector code (there are no scalar
// tails), so fusing keeps a row's bits independent of the batch. The project compiles with
// -ffp-contract=off for the kernels where that does not hold.
#if defined(__clang__)
#define BERTC_FP_CONTRACT _Pragma("clang fp contract(fast)")
#define BERTC_FP_CONTRACT_FN
#else
#define BERTC_FP_CONTRACT
#define BERTC_FP_CONTRACT_FN __attribute__((optimize("fp-contract=fast")))
#endif

inline Vec load_vec(const float* at) {
  Vec v;
  std::memcpy(&v, at, sizeof(Vec));
  return v;
}

// Rows [0, R) of xf (fp32, row stride kp) x the kTileCols columns at the start of wf (packed w
// widened to fp32, 64 floats per k pair: two column blocks' packed rows), k pairs [p0, p1). The
// lanes pair up as the packed rows do, (column j, even k) then (column j, odd k), so x comes in as
// its (x[2p], x[2p + 1]) pair broadcast, and each column's sum is its even-k lane plus its odd-k
// lane, both summed over p in increasing order. first: start from zero, else from `parked`; last:
// write the sums (row stride 32), else park the accumulators (an exact store) for the next pairs.
template <int R>
BERTC_FP_CONTRACT_FN void portable_tile(const float* xf, int64_t kp, const float* wf, int64_t p0,
                                        int64_t p1, bool first, bool last, Vec* parked,
                                        float* sums) {
  BERTC_FP_CONTRACT
  Vec acc[R][kTileVecs];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < kTileVecs; ++v) acc[r][v] = first ? Vec{} : parked[r * kTileVecs + v];
  for (int64_t p = p0; p < p1; ++p) {
    Vec w[kTileVecs];
#pragma GCC unroll 8
    for (int v = 0; v < kTileVecs; ++v) w[v] = load_vec(wf + p * 64 + v * kLanes);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      int64_t pair;  // two floats, moved as one integer: no arithmetic touches their bits
      std::memcpy(&pair, xf + r * kp + 2 * p, sizeof(pair));
      const Vec a = reinterpret_cast<Vec>(VecPair{} + pair);
#pragma GCC unroll 8
      for (int v = 0; v < kTileVecs; ++v) acc[r][v] += a * w[v];
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    if (!last) {
#pragma GCC unroll 8
      for (int v = 0; v < kTileVecs; ++v) parked[r * kTileVecs + v] = acc[r][v];
      continue;
    }
    float lanes[kTileVecs * kLanes];
#pragma GCC unroll 8
    for (int v = 0; v < kTileVecs; ++v) {
      const Vec one = acc[r][v];
      std::memcpy(lanes + v * kLanes, &one, sizeof(Vec));
    }
    for (int c = 0; c < kTileCols; ++c) sums[r * 32 + c] = lanes[2 * c] + lanes[2 * c + 1];
  }
}

using PortableTile = void (*)(const float*, int64_t, const float*, int64_t, int64_t, bool, bool,
                              Vec*, float*);

template <std::size_t... Rs>
constexpr std::array<PortableTile, kTileRows> portable_tiles(std::index_sequence<Rs...>) {
  return {&portable_tile<static_cast<int>(Rs) + 1>...};
}

// kPortableTiles[R - 1]: full tiles use kTileRows rows, the last rows of a task fewer.
constexpr auto kPortableTiles = portable_tiles(std::make_index_sequence<kTileRows>{});

// Rows [r0, r1) x columns [c0, c1) of y on the calling thread: one task of gemm_bf16_portable.
void portable_block(const uint16_t* xb, const uint16_t* w_packed, const float* bias, float* y,
                    int64_t m, int64_t kt, int64_t block_rows, int64_t r0, int64_t r1, int64_t c0,
                    int64_t c1, Epilogue epilogue) {
  const int64_t kp = kt * 32;
  // Per thread, grown once to the largest shape.
  static thread_local std::vector<float> xf, wf;
  static thread_local std::vector<Vec> parked;  // [block rows][kTileVecs]
  if (parked.size() < static_cast<size_t>(block_rows * kTileVecs))
    parked.resize(block_rows * kTileVecs);
  if (xf.size() < static_cast<size_t>(block_rows * kp)) xf.resize(block_rows * kp);
  if (wf.size() < static_cast<size_t>(32 * kp)) wf.resize(32 * kp);
  for (int64_t i = 0; i < (r1 - r0) * kp; ++i) xf[i] = bf16_to_f32(xb[r0 * kp + i]);
  for (int64_t c = c0; c < c1; c += 32) {
    // The group's two column blocks: packed row p of each (32 bf16) side by side.
    for (int64_t half = 0; half < 2; ++half) {
      const uint16_t* rows = w_packed + (c / 16 + half) * kt * 512;
      for (int64_t p = 0; p < kp / 2; ++p)
        for (int64_t e = 0; e < 32; ++e)
          wf[p * 64 + half * 32 + e] = bf16_to_f32(rows[p * 32 + e]);
    }
    for (int64_t j = 0; j < 32 && c + j < m; j += kTileCols) {
      // k in blocks whose widened w (kPairBlock x kTileCols x 2 floats) stays in L1 over the
      // task's rows; k = 0 still runs one (empty) pass to write the bias.
      for (int64_t p0 = 0; p0 < kp / 2 || p0 == 0; p0 += kPairBlock) {
        const int64_t p1 = std::min(kp / 2, p0 + kPairBlock);
        for (int64_t r = r0; r < r1; r += kTileRows) {
          const int rows = static_cast<int>(std::min<int64_t>(kTileRows, r1 - r));
          float sums[kTileRows * 32];
          kPortableTiles[rows - 1](xf.data() + (r - r0) * kp, kp, wf.data() + 2 * j, p0, p1,
                                   p0 == 0, p1 == kp / 2, parked.data() + (r - r0) * kTileVecs,
                                   sums);
          if (p1 == kp / 2)
            gemm_bf16_store(sums, bias ? bias + c + j : nullptr, y + r * m + c + j, m, rows,
                            std::min<int64_t>(kTileCols, m - c - j), epilogue);
        }
      }
    }
  }
}

}  // namespace

// Each task widens its rows of x and, one 32-column group at a time, the group's packed w to fp32
// once, so the inner loop is plain vector multiply-adds (the conversions cost about 1 / rows and
// 1 / 128 of the multiply-adds). A row's bits do not depend on n: see portable_tile.
void gemm_bf16_portable(const uint16_t* xb, const uint16_t* w_packed, const float* bias, float* y,
                        int64_t n, int64_t m, int64_t k, Epilogue epilogue) {
  if (n == 0) return;
  const int64_t kt = (k + 31) / 32, kp = kt * 32, mp = (m + 31) / 32 * 32;
  // Row blocks of equal size: each pays for widening w once.
  const int64_t block_rows = equal_block_rows(
      n, std::max<int64_t>(kTileRows, kXfBytes / (std::max<int64_t>(kp, 32) * 4)), kTileRows);
  for_each_block(n, mp, block_rows, kPortableColChunk, n * m * k >= (int64_t{1} << 18),
                 [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
                   portable_block(xb, w_packed, bias, y, m, kt, block_rows, r0, r1, c0, c1,
                                  epilogue);
                 });
}

namespace {

enum class Path { kAmx, kAvx512Bf16, kPortable };

// BERTC_GEMM=portable keeps the plain loops on any CPU, to rule the hardware dot products out when
// chasing a difference; BERTC_GEMM=avx512bf16 runs VDPBF16PS on an AMX CPU, to test and time what
// a Zen 4 runs. Chosen once: a process never mixes two paths' bits.
Path chosen_path() {
  static const Path path = [] {
    const char* env = std::getenv("BERTC_GEMM");
    if (env && std::strcmp(env, "portable") == 0) return Path::kPortable;
    if (env && std::strcmp(env, "avx512bf16") == 0) {
      BERTC_CHECK(has_avx512_bf16(), "BERTC_GEMM=avx512bf16: this CPU has no AVX512-BF16");
      return Path::kAvx512Bf16;
    }
    if (has_amx_bf16()) return Path::kAmx;
    // A CPU built with AMX whose tiles Linux did not grant (kernels before 5.16) issues one
    // VDPBF16PS every 2 cycles against 2 FMAs per cycle (Sapphire Rapids), half the
    // multiply-adds, so the portable loops are 1.4x faster there (1 thread: 3.6 vs 5.1 ms at
    // 128 x 3072 x 768, 57 vs 82 ms at 2048 x 768 x 3072).
    return has_avx512_bf16() && !cpu_has_amx_bf16() ? Path::kAvx512Bf16 : Path::kPortable;
  }();
  return path;
}

}  // namespace

const char* gemm_bf16_path_name() {
  switch (chosen_path()) {
    case Path::kAmx: return "amx";
    case Path::kAvx512Bf16: return "avx512bf16";
    case Path::kPortable: return "portable";
  }
  return "?";
}

void gemm_bf16(const float* x, const uint16_t* w_packed, const float* bias, float* y, int64_t n,
               int64_t m, int64_t k, Epilogue epilogue) {
  if (n == 0 || m == 0) return;
  const Path path = chosen_path();
  if (path == Path::kAmx) return gemm_bf16_amx(x, w_packed, bias, y, n, m, k, epilogue);
  // The caller thread's scratch: OpenMP threads only read it. Grows to the largest batch once.
  static thread_local std::vector<uint16_t> xb;
  const size_t need = static_cast<size_t>((n + 31) / 32 * 32 * ((k + 31) / 32 * 32));
  if (xb.size() < need) xb.resize(need);
  gemm_bf16_round_x(x, n, k, xb.data());
  switch (path) {
    case Path::kAmx: break;  // above
    case Path::kAvx512Bf16:
      return gemm_bf16_avx512(xb.data(), w_packed, bias, y, n, m, k, epilogue);
    case Path::kPortable: return gemm_bf16_portable(xb.data(), w_packed, bias, y, n, m, k, epilogue);
  }
}

}  // namespace cpu
}  // namespace bertc
