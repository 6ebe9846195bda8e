// embedding: the first BERT layer, gather + add + LayerNorm fused.
//   out[i, :] = LayerNorm(word[ids[i]] + position[position_ids[i]] + token_type[type_ids[i]])
//               * gamma + beta,   i in [0, n), rows of width `hidden`.
// LayerNorm uses the biased variance (divide by hidden) and eps inside the sqrt, as PyTorch does.
// Ids are not range-checked here: Backend::embed checks them against the table sizes first.
// n == 0 writes nothing.
#pragma once

#include <cstdint>

namespace bertc::ref {
void embedding(const int32_t* ids, const int32_t* type_ids, const int32_t* position_ids, int64_t n,
               const float* word, const float* position, const float* token_type,
               const float* gamma, const float* beta, float eps, int64_t hidden, float* out);
}  // namespace bertc::ref

namespace bertc::cpu {
void embedding(const int32_t* ids, const int32_t* type_ids, const int32_t* position_ids, int64_t n,
               const float* word, const float* position, const float* token_type,
               const float* gamma, const float* beta, float eps, int64_t hidden, float* out);
}  // namespace bertc::cpu
