// CPU embedding, portable (kernels/cpu/embedding_impl.h): gather the three rows, add, LayerNorm;
// checked against kernels/ref/embedding.cc (1e-5).
#include "kernels/embedding.h"

#include "kernels/cpu/embedding_impl.h"

namespace bertc::cpu {

void embedding(const int32_t* ids, const int32_t* type_ids, const int32_t* position_ids, int64_t n,
               const float* word, const float* position, const float* token_type,
               const float* gamma, const float* beta, float eps, int64_t hidden, float* out) {
  embedding_rows(ids, type_ids, position_ids, n, word, position, token_type, gamma, beta, eps,
                 hidden, out);
}

}  // namespace bertc::cpu
