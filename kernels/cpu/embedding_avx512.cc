// Embedding + LayerNorm for the avx512 kernels: kernels/cpu/embedding_impl.h compiled with this
// ISA's flags. Checked in tests/kernels/embedding_test.cc.
#include "kernels/cpu/embedding_impl.h"
#include "kernels/cpu/kernels_avx512.h"

namespace bertc::cpu::avx512 {

void embedding(const int32_t* ids, const int32_t* type_ids, const int32_t* position_ids, int64_t n,
               const float* word, const float* position, const float* token_type,
               const float* gamma, const float* beta, float eps, int64_t hidden, float* out) {
  embedding_rows(ids, type_ids, position_ids, n, word, position, token_type, gamma, beta, eps,
                 hidden, out);
}

}  // namespace bertc::cpu::avx512
