// topk: exact top-k rows by inner product, for semantic search over normalised embeddings.
//   For each query q_j (row j of Q [NQ, D]) and every row i of M [R, D]: s_ij = M_i . q_j.
//   out_index[j, 0..k) / out_score[j, 0..k) = the k rows with the largest s_ij, best first;
//   ties go to the lower row index, so results do not depend on threads or blocking.
//   A NaN score ranks as -inf (and is reported as -inf). Requires 0 <= k <= R; R or NQ may be 0.
//   topk_f16 reads M stored as IEEE half (Q stays float32), halving the bytes scanned.
#pragma once

#include <cstdint>

namespace bertc::ref {
void topk(const float* matrix, int64_t rows, int64_t dim, const float* queries, int64_t num_queries,
          int64_t k, int64_t* out_index, float* out_score);
void topk_f16(const uint16_t* matrix, int64_t rows, int64_t dim, const float* queries,
              int64_t num_queries, int64_t k, int64_t* out_index, float* out_score);
}  // namespace bertc::ref

namespace bertc::cpu {
// Blocked matrix products over row ranges split across `threads` threads (0: all cores) with
// a k-element heap per thread and query; memory-bandwidth bound for one query.
void topk(const float* matrix, int64_t rows, int64_t dim, const float* queries, int64_t num_queries,
          int64_t k, int64_t* out_index, float* out_score, int threads = 0);
void topk_f16(const uint16_t* matrix, int64_t rows, int64_t dim, const float* queries,
              int64_t num_queries, int64_t k, int64_t* out_index, float* out_score, int threads = 0);
}  // namespace bertc::cpu
