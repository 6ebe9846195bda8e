// What the CPU attention paths share: the per-thread scratch layout and the loop that hands one
// (sequence, head) pair at a time to a path's head function, on whichever thread of the team.
// Compiled into each file that includes it, in that file's BERTC_ISA_NS (isa_ns.h).
#pragma once

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/isa_ns.h"
#include "kernels/cpu/vec.h"  // kMinParallelFloats

namespace bertc::cpu {
inline namespace BERTC_ISA_NS {

// Heads up to this width (BERT 64, MiniLM 32) take the fast paths: the head's K is transposed
// into the thread's scratch so q k^T runs as axpys over contiguous keys (no horizontal sums).
// Wider heads fall back to one lane-split dot product per key.
constexpr int64_t kMaxTransposedHeadDim = 128;
constexpr int64_t kQueryBlock = 8;  // queries scored together: each K^T load feeds 8 rows

// Rows of the scratch start on a 128-byte boundary (two cache lines, two zmm of keys), so two
// threads never write the same line and the vector paths read whole 32-key blocks.
inline int64_t row_stride(int64_t seq_len_max) { return (seq_len_max + 31) / 32 * 32; }

// Per-thread scratch: kQueryBlock score rows, then K^T of one head [kMaxTransposedHeadDim, stride],
// then (vector paths) the head's V rows side by side [stride, kMaxTransposedHeadDim].
inline int64_t thread_floats(int64_t seq_len_max) {
  return row_stride(seq_len_max) * (kQueryBlock + 2 * kMaxTransposedHeadDim);
}

// One (sequence, head) pair for a path's head function: its [len, D] slices at row stride h.
struct Head {
  const float* q;  // [len, D] at row stride h, like k, v and out
  const float* k;
  const float* v;
  float* out;
  int64_t h, len, head_dim;
  float scale;      // 1 / sqrt(D)
  int64_t stride;   // row_stride(seq_len_max) of the scratch rows
  float* scores;    // [kQueryBlock, stride]: the thread's score rows
  float* kt;        // [kMaxTransposedHeadDim, stride], then [stride, kMaxTransposedHeadDim]
};

// Calls head_fn(Head) for every (sequence, head) pair, as tasks of a dynamic schedule (their cost
// differs by len^2), each with the running thread's slice of scratch.
template <typename HeadFn>
void for_each_head(const float* q, const float* k, const float* v, float* out,
                   const int32_t* cu_seqlens, int64_t num_seqs, int64_t num_heads,
                   int64_t head_dim, float* scratch, const HeadFn& head_fn) {
  const int64_t h = num_heads * head_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  int64_t seq_len_max = 0, work = 0;  // work: multiply-adds of the two products
  for (int64_t b = 0; b < num_seqs; ++b) {
    const int64_t len = cu_seqlens[b + 1] - cu_seqlens[b];
    seq_len_max = std::max(seq_len_max, len);
    work += 2 * len * len * h;
  }
  const int64_t stride = row_stride(seq_len_max);
#pragma omp parallel for schedule(dynamic) if (work >= kMinParallelFloats)
  for (int64_t task = 0; task < num_seqs * num_heads; ++task) {
    const int64_t b = task / num_heads, col = (task % num_heads) * head_dim;
    const int64_t begin = cu_seqlens[b], len = cu_seqlens[b + 1] - begin;
    float* scores = scratch + omp_get_thread_num() * thread_floats(seq_len_max);
    head_fn(Head{q + begin * h + col, k + begin * h + col, v + begin * h + col,
                 out + begin * h + col, h, len, head_dim, scale, stride, scores,
                 scores + kQueryBlock * stride});
  }
}

}  // namespace BERTC_ISA_NS
}  // namespace bertc::cpu
