// The portable CPU gemm: Eigen's single-threaded GEMM on fixed tiles, the tiles spread over
// OpenMP threads; and the portable "packed" gemm, which is the same on a copy of w. Checked
// against kernels/ref/gemm.cc (rtol growing with k) and bitwise per row in the tests.
//
// Why tiles instead of one Eigen product: Eigen picks its code path and K blocking from the
// matrix sizes and its own thread count (n == 1 becomes a GEMV, leftover rows use other
// micro-kernels, a multi-threaded product blocks K differently), so a row's bits would depend
// on how many rows are in the batch. Here every Eigen call sees
//   - a single thread (Eigen's own threading is off; our tiles are the parallelism),
//   - an output-column range fixed by m alone (tiles of kTileCols features),
//   - a row count that is a multiple of kRowMultiple and at least kMinRows (the tail tile is
//     zero-padded), so rows never reach Eigen's GEMV or small-product paths and always take the
//     full micro-kernels, whose per-element K order does not depend on the row's position.
// This leans on Eigen 3.4's internals, so GemmInvariance (tests/kernels/gemm_test.cc) checks it
// bitwise; it passes with Eigen built for AVX-512, AVX2 (-march=haswell) and plain SSE2.
#include "kernels/gemm.h"
#include "kernels/cpu/gemm_tasks.h"

// GCC 12 reports Eigen 3.4's AVX-512 transpose in gemm_pack_lhs (_mm512_undefined_ps operands)
// as maybe-uninitialized: a known false positive inside headers we do not own.
#if defined(__GNUC__) && !defined(__clang__)  // clang has no such warning
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <Eigen/Core>

#include <algorithm>
#include <cstring>
#include <vector>

namespace bertc::cpu {
namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMajor>;
using StridedMap = Eigen::Map<RowMajor, 0, Eigen::OuterStride<>>;

constexpr int64_t kTileRows = 256;    // rows per tile: amortizes packing w over many rows
constexpr int64_t kTileCols = 128;    // output features per tile: enough tiles for every thread
constexpr int64_t kRowMultiple = 8;   // >= Eigen's widest register block of rows (nr)
constexpr int64_t kMinRows = 16;      // keeps k + m + rows >= 20: never Eigen's coefficient path
constexpr int64_t kSmallM = 4;        // below this Eigen turns the product into a GEMV

// m < kSmallM: plain dot products in a fixed order (Eigen would pick a GEMV whose order
// depends on the row's alignment). Only tiny test shapes get here; BERT has m >= 768.
void gemm_small_m(const float* x, const float* w, const float* bias, float* y, int64_t n,
                  int64_t m, int64_t k) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t c = 0; c < m; ++c) {
      float acc = 0.0f;
      for (int64_t i = 0; i < k; ++i) acc += x[r * k + i] * w[c * k + i];
      y[r * m + c] = acc + (bias ? bias[c] : 0.0f);
    }
  }
}

}  // namespace

void gemm(const float* x, const float* w, const float* bias, float* y, int64_t n, int64_t m,
          int64_t k, Epilogue epilogue) {
  if (gemm_degenerate(bias, y, n, m, k, epilogue)) return;
  if (m < kSmallM) {
    gemm_small_m(x, w, bias, y, n, m, k);
    if (epilogue == Epilogue::kBiasGelu) gelu_rows(y, m, n, m);
    return;
  }
  // Eigen must never fork on its own: a team of one thread (OMP_DYNAMIC, thread limits) would
  // otherwise let it block K for several threads and change the bits.
  static const bool eigen_single_threaded = [] { Eigen::setNbThreads(1); return true; }();
  (void)eigen_single_threaded;
  const int64_t row_tiles = (n + kTileRows - 1) / kTileRows;
  const int64_t col_tiles = (m + kTileCols - 1) / kTileCols;
#pragma omp parallel
  {
    // Only a padded tail tile needs these. OpenMP keeps its threads, so each thread's buffers
    // grow to the largest tile once ([<= 256, k] and [<= 256, 128]) and the forward pass then
    // stops allocating.
    static thread_local std::vector<float> x_pad, y_pad;
#pragma omp for schedule(dynamic)
    for (int64_t tile = 0; tile < row_tiles * col_tiles; ++tile) {
      const int64_t r0 = tile / col_tiles * kTileRows, c0 = tile % col_tiles * kTileCols;
      const int64_t rows = std::min(kTileRows, n - r0), cols = std::min(kTileCols, m - c0);
      const int64_t rows_padded =
          std::max(kMinRows, (rows + kRowMultiple - 1) / kRowMultiple * kRowMultiple);
      const ConstMap w_tile(w + c0 * k, cols, k);  // [cols, k], HF layout
      if (rows_padded == rows) {
        StridedMap y_tile(y + r0 * m + c0, rows, cols, Eigen::OuterStride<>(m));
        y_tile.noalias() = ConstMap(x + r0 * k, rows, k) * w_tile.transpose();
      } else {
        x_pad.assign(rows_padded * k, 0.0f);
        std::memcpy(x_pad.data(), x + r0 * k, sizeof(float) * rows * k);
        y_pad.resize(rows_padded * cols);
        Eigen::Map<RowMajor>(y_pad.data(), rows_padded, cols).noalias() =
            ConstMap(x_pad.data(), rows_padded, k) * w_tile.transpose();
        for (int64_t r = 0; r < rows; ++r)
          std::memcpy(y + (r0 + r) * m + c0, y_pad.data() + r * cols, sizeof(float) * cols);
      }
      if (bias) {
        for (int64_t r = 0; r < rows; ++r) {
          float* row = y + (r0 + r) * m + c0;
          for (int64_t c = 0; c < cols; ++c) row[c] += bias[c0 + c];
        }
      }
      if (epilogue == Epilogue::kBiasGelu) gelu_rows(y + r0 * m + c0, m, rows, cols);
    }
  }
}

int64_t gemm_packed_floats(int64_t m, int64_t k) { return m * k; }

void gemm_pack(const float* w, int64_t m, int64_t k, float* packed) {
  if (m > 0 && k > 0) std::memcpy(packed, w, sizeof(float) * m * k);
}

void gemm_packed(const float* x, const float* packed, const float* bias, float* y, int64_t n,
                 int64_t m, int64_t k, Epilogue epilogue) {
  gemm(x, packed, bias, y, n, m, k, epilogue);
}

}  // namespace bertc::cpu
