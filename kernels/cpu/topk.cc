// CPU top-k: threads take row chunks in order and scan them in blocks, score a block against the
// queries (portable: one Eigen product, a GEMV for one query: memory-bound; a per-ISA path gives
// its own scoring of rows against one query) and keep a k-element heap per query; the per-thread
// heaps are merged at the end. f16 rows are widened block by block into a cache-resident buffer
// first on the portable path. Checked against ref::topk in tests/kernels/topk_test.cc.
#include "kernels/topk.h"

// GCC 12 reports _mm512_undefined_ps() inside Eigen's AVX-512 GEMM packing as maybe-uninitialized
// (BERTC_NATIVE builds), a known false positive (the undefined lanes are overwritten by the unpack).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <thread>
#include <type_traits>
#include <vector>

#include "common/dtype.h"
#include "kernels/cpu/topk_scan.h"

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
  for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(src[i]);
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

// Scans rows [begin, end) and leaves, per query, at most k best candidates in heaps[j]
// (a heap ordered by `better`, so its front is the worst kept candidate).
// score: a per-ISA scoring of rows against one query, or null for the Eigen products.
template <typename T>
void scan_range(const T* matrix, int64_t begin, int64_t end, int64_t dim, const float* queries,
                int64_t num_queries, int64_t k, TopkScore<T> score,
                std::vector<std::vector<Candidate>>& heaps) {
  const int64_t rb = block_rows(dim);
  Eigen::Map<const RowMatrix> q(queries, num_queries, dim);  // [NQ, D]
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic> scores(rb, num_queries);  // [rb, NQ]
  std::vector<float> widened;
  if constexpr (std::is_same_v<T, uint16_t>) {
    if (!score) widened.resize(static_cast<size_t>(rb * dim));
  }
  for (auto& h : heaps) h.reserve(static_cast<size_t>(k));

  for (int64_t b0 = begin; b0 < end; b0 += rb) {
    const int64_t n = std::min(rb, end - b0);
    if (score) {
      for (int64_t j = 0; j < num_queries; ++j) {
        score(matrix + b0 * dim, n, dim, queries + j * dim, scores.col(j).data());
        select_block(scores.col(j).data(), b0, n, k, heaps[j]);
      }
      continue;
    }
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

}  // namespace

template <typename T>
void topk_scan(const T* matrix, int64_t rows, int64_t dim, const float* queries,
               int64_t num_queries, int64_t k, int64_t* out_index, float* out_score, int threads,
               TopkScore<T> score) {
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
                   score, heaps[t]);
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

template void topk_scan(const float*, int64_t, int64_t, const float*, int64_t, int64_t, int64_t*,
                        float*, int, TopkScore<float>);
template void topk_scan(const uint16_t*, int64_t, int64_t, const float*, int64_t, int64_t,
                        int64_t*, float*, int, TopkScore<uint16_t>);

void topk(const float* matrix, int64_t rows, int64_t dim, const float* queries, int64_t num_queries,
          int64_t k, int64_t* out_index, float* out_score, int threads) {
  topk_scan<float>(matrix, rows, dim, queries, num_queries, k, out_index, out_score, threads,
                   nullptr);
}

void topk_f16(const uint16_t* matrix, int64_t rows, int64_t dim, const float* queries,
              int64_t num_queries, int64_t k, int64_t* out_index, float* out_score, int threads) {
  topk_scan<uint16_t>(matrix, rows, dim, queries, num_queries, k, out_index, out_score, threads,
                      nullptr);
}

}  // namespace bertc::cpu
