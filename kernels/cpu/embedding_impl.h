// Embedding: gather the three rows, add, LayerNorm (kernels/embedding.h), one token per iteration.
// Compiled into each file that includes it, for that file's ISA and in its BERTC_ISA_NS
// (isa_ns.h): embedding.cc (the portable kernel) and embedding_<isa>.cc.
#pragma once

#include <cstdint>

#include "kernels/cpu/isa_ns.h"
#include "kernels/cpu/vec.h"

namespace bertc::cpu {
inline namespace BERTC_ISA_NS {

inline void embedding_rows(const int32_t* ids, const int32_t* type_ids,
                           const int32_t* position_ids, int64_t n, const float* word,
                           const float* position, const float* token_type, const float* gamma,
                           const float* beta, float eps, int64_t hidden, float* out) {
#pragma omp parallel for schedule(static) if (n * hidden >= kMinParallelFloats)
  for (int64_t i = 0; i < n; ++i) {
    const float* w = word + static_cast<int64_t>(ids[i]) * hidden;
    const float* p = position + static_cast<int64_t>(position_ids[i]) * hidden;
    const float* t = token_type + static_cast<int64_t>(type_ids[i]) * hidden;
    float* row = out + i * hidden;
    for (int64_t c = 0; c < hidden; ++c) row[c] = w[c] + p[c] + t[c];
    layer_norm_row(row, gamma, beta, eps, hidden);
  }
}

}  // namespace BERTC_ISA_NS
}  // namespace bertc::cpu
