// Semantic search over embeddings: L2 normalisation, cosine similarity matrices and exact top-k
// (kernels/topk.h does the scan). Checked by tests/app/search_test.cc against the tiny-st
// reference (sim_*.npy, search.json).
#pragma once

#include <cstdint>
#include <vector>

#include "common/dtype.h"

namespace bertc {

struct SearchHit {
  int64_t index = 0;  // corpus row
  float score = 0;    // cosine similarity
};

// Scales each row of x [rows, dim] to unit L2 norm; an all-zero row stays zero, so its cosine
// with anything is 0 rather than NaN.
void l2_normalize_rows(float* x, int64_t rows, int64_t dim);

// Cosine similarities [na, nb] between the rows of a [na, dim] and b [nb, dim], in double
// precision (zero rows give 0).
std::vector<float> cosine_matrix(const float* a, int64_t na, const float* b, int64_t nb,
                                 int64_t dim);

// A corpus of L2-normalised rows [rows, dim], float32 or f16, e.g. a view into an mmap'ed index.
struct CorpusView {
  const void* data = nullptr;
  DType dtype = DType::kF32;
  int64_t rows = 0;
  int64_t dim = 0;
};

// For each query (rows of queries [num_queries, dim], normalised here on a copy) the min(k, rows)
// corpus rows of highest cosine, best first, ties to the lower row. threads 0: all cores.
std::vector<std::vector<SearchHit>> top_k(const CorpusView& corpus, const float* queries,
                                          int64_t num_queries, int64_t k, int threads = 0);

}  // namespace bertc
