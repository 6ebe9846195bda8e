// Pooling for the avx2 kernels: kernels/cpu/pooling_impl.h compiled with this ISA's flags.
// Checked in tests/kernels/pooling_test.cc.
#include "kernels/cpu/kernels_avx2.h"
#include "kernels/cpu/pooling_impl.h"

namespace bertc::cpu::avx2 {

void pool(const float* hidden, const int32_t* cu_seqlens, int64_t num_seqs, int64_t hidden_size,
          PoolMode mode, float* out) {
  pool_rows(hidden, cu_seqlens, num_seqs, hidden_size, mode, out);
}

}  // namespace bertc::cpu::avx2
