// Cosine matrices and top-k search (see app/search.h).
#include "app/search.h"

#include <cmath>

#include "common/error.h"
#include "kernels/cpu/cpu_plan.h"

namespace bertc {

void l2_normalize_rows(float* x, int64_t rows, int64_t dim) {
  for (int64_t i = 0; i < rows; ++i) {
    float* r = x + i * dim;
    double sum = 0;
    for (int64_t d = 0; d < dim; ++d) sum += double(r[d]) * r[d];
    if (sum == 0) continue;
    double inv = 1.0 / std::sqrt(sum);
    for (int64_t d = 0; d < dim; ++d) r[d] = static_cast<float>(r[d] * inv);
  }
}

std::vector<float> cosine_matrix(const float* a, int64_t na, const float* b, int64_t nb,
                                 int64_t dim) {
  auto norms = [dim](const float* x, int64_t n) {
    std::vector<double> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      double s = 0;
      for (int64_t d = 0; d < dim; ++d) s += double(x[i * dim + d]) * x[i * dim + d];
      out[i] = std::sqrt(s);
    }
    return out;
  };
  std::vector<double> norm_a = norms(a, na), norm_b = norms(b, nb);
  std::vector<float> out(static_cast<size_t>(na * nb));
  for (int64_t i = 0; i < na; ++i) {
    for (int64_t j = 0; j < nb; ++j) {
      double dot = 0;
      for (int64_t d = 0; d < dim; ++d) dot += double(a[i * dim + d]) * b[j * dim + d];
      double denom = norm_a[i] * norm_b[j];
      out[i * nb + j] = denom > 0 ? static_cast<float>(dot / denom) : 0.0f;
    }
  }
  return out;
}

std::vector<std::vector<SearchHit>> top_k(const CorpusView& corpus, const float* queries,
                                          int64_t num_queries, int64_t k, int threads) {
  BERTC_CHECK(corpus.dtype == DType::kF32 || corpus.dtype == DType::kF16,
              "search: corpus embeddings must be f32 or f16, not ", dtype_name(corpus.dtype));
  BERTC_CHECK(k >= 0, "search: k must be >= 0, got ", k);
  k = std::min(k, corpus.rows);
  std::vector<float> q(queries, queries + num_queries * corpus.dim);
  l2_normalize_rows(q.data(), num_queries, corpus.dim);
  std::vector<int64_t> index(static_cast<size_t>(num_queries * k));
  std::vector<float> score(static_cast<size_t>(num_queries * k));
  // Outside any backend: the process's CPU plan (BERTC_CPU or the best this CPU runs).
  const cpu::CpuKernels& kernels = cpu::process_kernels();
  if (corpus.dtype == DType::kF32) {
    kernels.topk(static_cast<const float*>(corpus.data), corpus.rows, corpus.dim, q.data(),
                 num_queries, k, index.data(), score.data(), threads);
  } else {
    kernels.topk_f16(static_cast<const uint16_t*>(corpus.data), corpus.rows, corpus.dim, q.data(),
                     num_queries, k, index.data(), score.data(), threads);
  }
  std::vector<std::vector<SearchHit>> hits(static_cast<size_t>(num_queries));
  for (int64_t j = 0; j < num_queries; ++j)
    for (int64_t r = 0; r < k; ++r) hits[j].push_back({index[j * k + r], score[j * k + r]});
  return hits;
}

}  // namespace bertc
