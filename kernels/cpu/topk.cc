// CPU top-k: threads take row chunks in order and scan them in blocks, scores a block against all
// queries with one Eigen product (a GEMV for one query: memory-bound), and keeps a k-element heap
// per query; the per-thread heaps are merged at the end. f16 rows are widened block by block
// into a cache-resident buffer first. Checked against ref::topk in tests/kernels/topk_test.cc.
#include "kernels/topk.h"

// GCC 12 reports _mm512_undefined_ps() inside Eigen's AVX-512 GEMM packing as maybe-uninitialized,
// a known false positive (the undefined lanes are overwritten by the unpack).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <thread>
#include <type_traits>
#include <vector>

#include "common/dtype.h"

namespace bertc::cpu {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Candidate {
  float score;
  int64_t index;
};
// a ranks before b: higher score, then lower index.
bool better(const Candidate& a, const Candidate& b) {
  return a.score > b.score || (a.score == b.score && a.index < b.index);
}

// Rows per block: about 256 KB of float32 rows, so a block (and its f16 widening) stays in L2.
int64_t block_rows(int64_t dim) { return std::max<int64_t>(16, (256 << 10) / (4 * std::max<int64_t>(dim, 1))); }

void widen_f16(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
#elif defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
#endif
  for (; i < n; ++i) dst[i] = f16_to_f32(src[i]);
}

// Offers scores s[0, n) of rows b0.. to `heap` (ordered by `better`: front = worst kept).
void select_block(const float* s, int64_t b0, int64_t n, int64_t k, std::vector<Candidate>& heap) {
  int64_t i = 0;
  // Fill the heap first; NaN ranks as -inf.
  for (; i < n && static_cast<int64_t>(heap.size()) < k; ++i) {
    float v = std::isnan(s[i]) ? -std::numeric_limits<float>::infinity() : s[i];
    heap.push_back({v, b0 + i});
    std::push_heap(heap.begin(), heap.end(), better);
  }
  if (heap.empty()) return;
  // Rows arrive in index order, so an equal score never displaces a kept one: only '>' matters,
  // and NaN fails it.
  float threshold = heap.front().score;
  for (; i < n; ++i) {
    if (!(s[i] > threshold)) continue;
    std::pop_heap(heap.begin(), heap.end(), better);
    heap.back() = {s[i], b0 + i};
    std::push_heap(heap.begin(), heap.end(), better);
    threshold = heap.front().score;
  }
}

#if defined(__AVX512F__)
// One query against n rows: 4 rows share each load of q, and 4 independent FMA chains keep the
// loads in flight; the D % 16 tail uses masked loads. Memory-bound: the matrix is read once.
// Neither 8 rows per step nor a shuffle-tree reduction of the 4 sums changed L3-resident timings
// by more than 1%.
template <typename T>
__m512 load16(const T* p, __mmask16 mask) {
  if constexpr (std::is_same_v<T, uint16_t>) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, p));
  } else {
    return _mm512_maskz_loadu_ps(mask, p);
  }
}

// Software prefetch, chosen on 3M x 300 (bench/kernels/topk_bench.cc and a scratch harness):
// - f32: the hardware prefetcher streams within a 4 KB page but starts slowly on each new one.
//   Touching the first two lines of the page 16 KB ahead once per 4 rows starts it early: one
//   thread 245 -> 228 ms, two 123 -> 118-120 ms. Prefetching every line was 10% slower, NTA 2x.
//   On transparent huge pages the same prefetch costs 7% (two threads 111 -> 119 ms); bertc's
//   corpora are file mappings (.bertc, index .npy), always on 4 KB pages, so it stays.
// - f16: widening doubles the work per cache line, so the out-of-order window keeps half as many
//   misses in flight. Every line is prefetched 6 KB ahead into L2 (T1), spread over the 16-column
//   steps: one thread 195 -> 142 ms (2 KB into L1: 157 ms), two 107 -> 75 ms.
template <typename T>
constexpr bool kF16 = std::is_same_v<T, uint16_t>;
constexpr uintptr_t kPageBytes = 4096;
constexpr uintptr_t kPagePrefetchAheadBytes = 16384;  // f32
constexpr uintptr_t kLinePrefetchAheadBytes = 6144;   // f16

// Once per 4 rows starting at `r0`.
template <typename T>
void prefetch_rows(const T* r0) {
  if constexpr (!kF16<T>) {
    uintptr_t page = (reinterpret_cast<uintptr_t>(r0) + kPagePrefetchAheadBytes) & ~(kPageBytes - 1);
    _mm_prefetch(reinterpret_cast<const char*>(page), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(page + 64), _MM_HINT_T0);
  }
}

// Once per 16-column step: its share (4 rows x 16 columns) of the span `ahead` points into.
template <typename T>
void prefetch_step(uintptr_t ahead) {
  if constexpr (kF16<T>)
    for (int64_t o = 0; o < 4 * 16 * int64_t{sizeof(T)}; o += 64)
      _mm_prefetch(reinterpret_cast<const char*>(ahead + o), _MM_HINT_T1);
}

template <typename T>
void score_rows_avx512(const T* rows, int64_t n, int64_t dim, const float* q, float* out) {
  const int64_t full = dim / 16 * 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (dim - full)) - 1);
  constexpr int64_t kStepBytes = 4 * 16 * sizeof(T);  // 4 rows x 16 columns
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const T* r0 = rows + i * dim;
    // Steps cover ceil(D / 16) * kStepBytes >= the 4 rows' bytes. Past the matrix end a prefetch
    // is only a hint and does not fault.
    prefetch_rows(r0);
    uintptr_t ahead = reinterpret_cast<uintptr_t>(r0) + kLinePrefetchAheadBytes;
    __m512 a[4];
    for (int r = 0; r < 4; ++r) a[r] = _mm512_setzero_ps();
    if constexpr (kF16<T>) {
      // Four row pointers: GCC then indexes all loads off one counter. For f32 that form made
      // the FMAs take indexed memory operands (two uops each, so fewer loads in flight) and cost
      // 3% (123 vs 120 ms on 3M x 300); for f16 the row-offset form below was 10% slower.
      const T* r1 = r0 + dim;
      const T* r2 = r1 + dim;
      const T* r3 = r2 + dim;
      for (int64_t d = 0; d < full; d += 16, ahead += kStepBytes) {
        prefetch_step<T>(ahead);
        __m512 qv = _mm512_loadu_ps(q + d);
        a[0] = _mm512_fmadd_ps(load16(r0 + d, 0xffff), qv, a[0]);
        a[1] = _mm512_fmadd_ps(load16(r1 + d, 0xffff), qv, a[1]);
        a[2] = _mm512_fmadd_ps(load16(r2 + d, 0xffff), qv, a[2]);
        a[3] = _mm512_fmadd_ps(load16(r3 + d, 0xffff), qv, a[3]);
      }
    } else {
      for (int64_t d = 0; d < full; d += 16) {
        __m512 qv = _mm512_loadu_ps(q + d);
        for (int r = 0; r < 4; ++r) a[r] = _mm512_fmadd_ps(load16(r0 + r * dim + d, 0xffff), qv, a[r]);
      }
    }
    if (tail) {
      prefetch_step<T>(ahead);
      __m512 qv = _mm512_maskz_loadu_ps(tail, q + full);
      for (int r = 0; r < 4; ++r) a[r] = _mm512_fmadd_ps(load16(r0 + r * dim + full, tail), qv, a[r]);
    }
    for (int r = 0; r < 4; ++r) out[i + r] = _mm512_reduce_add_ps(a[r]);
  }
  for (; i < n; ++i) {
    const T* r = rows + i * dim;
    __m512 a = _mm512_setzero_ps();
    for (int64_t d = 0; d < full; d += 16) a = _mm512_fmadd_ps(load16(r + d, 0xffff), _mm512_loadu_ps(q + d), a);
    if (tail) a = _mm512_fmadd_ps(load16(r + full, tail), _mm512_maskz_loadu_ps(tail, q + full), a);
    out[i] = _mm512_reduce_add_ps(a);
  }
}
#endif

// Scans rows [begin, end) and leaves, per query, at most k best candidates in heaps[j]
// (a heap ordered by `better`, so its front is the worst kept candidate).
template <typename T>
void scan_range(const T* matrix, int64_t begin, int64_t end, int64_t dim, const float* queries,
                int64_t num_queries, int64_t k, std::vector<std::vector<Candidate>>& heaps) {
  const int64_t rb = block_rows(dim);
  Eigen::Map<const RowMatrix> q(queries, num_queries, dim);  // [NQ, D]
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic> scores(rb, num_queries);  // [rb, NQ]
  std::vector<float> widened;
  if constexpr (std::is_same_v<T, uint16_t>) widened.resize(static_cast<size_t>(rb * dim));
  for (auto& h : heaps) h.reserve(static_cast<size_t>(k));

  for (int64_t b0 = begin; b0 < end; b0 += rb) {
    const int64_t n = std::min(rb, end - b0);
#if defined(__AVX512F__)
    if (num_queries == 1) {
      score_rows_avx512(matrix + b0 * dim, n, dim, queries, scores.data());
      select_block(scores.data(), b0, n, k, heaps[0]);
      continue;
    }
#endif
    const float* block;
    if constexpr (std::is_same_v<T, uint16_t>) {
      widen_f16(matrix + b0 * dim, widened.data(), n * dim);
      block = widened.data();
    } else {
      block = matrix + b0 * dim;
    }
    Eigen::Map<const RowMatrix> m(block, n, dim);  // [n, D]
    if (num_queries == 1) {
      scores.col(0).head(n).noalias() = m * q.row(0).transpose();
    } else {
      scores.topRows(n).noalias() = m * q.transpose();
    }
    for (int64_t j = 0; j < num_queries; ++j) select_block(scores.col(j).data(), b0, n, k, heaps[j]);
  }
}

template <typename T>
void topk_impl(const T* matrix, int64_t rows, int64_t dim, const float* queries,
               int64_t num_queries, int64_t k, int64_t* out_index, float* out_score, int threads) {
  if (num_queries == 0 || k == 0) return;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Below ~16k rows per thread, starting a thread costs more than it saves.
  threads = static_cast<int>(std::clamp<int64_t>(rows / (16 << 10), 1, threads));
  std::vector<std::vector<std::vector<Candidate>>> heaps(
      threads, std::vector<std::vector<Candidate>>(static_cast<size_t>(num_queries)));
  // Threads take chunks from a shared counter rather than fixed halves: on a shared machine one
  // core is often busy, and a static split would wait for the slowest thread. Each thread still
  // sees its rows in increasing order, which the tie rule in select_block relies on.
  const int64_t chunk = 16 * block_rows(dim);
  std::atomic<int64_t> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    auto work = [&, t] {
      for (int64_t begin; (begin = next.fetch_add(chunk)) < rows;)
        scan_range(matrix, begin, std::min(rows, begin + chunk), dim, queries, num_queries, k,
                   heaps[t]);
    };
    if (t + 1 < threads) {
      pool.emplace_back(work);
    } else {
      work();
    }
  }
  for (auto& th : pool) th.join();

  std::vector<Candidate> merged;
  for (int64_t j = 0; j < num_queries; ++j) {
    merged.clear();
    for (int t = 0; t < threads; ++t) merged.insert(merged.end(), heaps[t][j].begin(), heaps[t][j].end());
    std::sort(merged.begin(), merged.end(), better);
    for (int64_t r = 0; r < k; ++r) {
      out_index[j * k + r] = merged[r].index;
      out_score[j * k + r] = merged[r].score;
    }
  }
}

}  // namespace

void topk(const float* matrix, int64_t rows, int64_t dim, const float* queries, int64_t num_queries,
          int64_t k, int64_t* out_index, float* out_score, int threads) {
  topk_impl(matrix, rows, dim, queries, num_queries, k, out_index, out_score, threads);
}

void topk_f16(const uint16_t* matrix, int64_t rows, int64_t dim, const float* queries,
              int64_t num_queries, int64_t k, int64_t* out_index, float* out_score, int threads) {
  topk_impl(matrix, rows, dim, queries, num_queries, k, out_index, out_score, threads);
}

}  // namespace bertc::cpu
