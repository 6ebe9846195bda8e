// The scan behind every CPU top-k path (kernels/topk.h), defined once in the baseline topk.cc:
// threads over row chunks, blocks of rows, a k-element heap per thread and query. A per-ISA path
// passes its scoring of rows against one query; the portable path passes none (Eigen products).
#pragma once

#include <cstdint>

namespace bertc::cpu {

// out[i] = rows[i] . q for the n rows (row stride dim) of a block; T is float or uint16_t (f16).
template <typename T>
using TopkScore = void (*)(const T* rows, int64_t n, int64_t dim, const float* q, float* out);

// topk / topk_f16 (kernels/topk.h) with `score` scoring each block (null: Eigen products).
template <typename T>
void topk_scan(const T* matrix, int64_t rows, int64_t dim, const float* queries,
               int64_t num_queries, int64_t k, int64_t* out_index, float* out_score, int threads,
               TopkScore<T> score);

}  // namespace bertc::cpu
