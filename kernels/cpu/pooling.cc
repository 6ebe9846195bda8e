// CPU pooling, portable (kernels/cpu/pooling_impl.h). Checked against kernels/ref/pooling.cc
// (1e-6).
#include "kernels/pooling.h"

#include "kernels/cpu/pooling_impl.h"

namespace bertc::cpu {

void pool(const float* hidden, const int32_t* cu_seqlens, int64_t num_seqs, int64_t hidden_size,
          PoolMode mode, float* out) {
  pool_rows(hidden, cu_seqlens, num_seqs, hidden_size, mode, out);
}

}  // namespace bertc::cpu
