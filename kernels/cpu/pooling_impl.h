// Pooling (kernels/pooling.h): one sequence per iteration, columns in blocks so the mean
// accumulates in double on the stack (no allocation).
// Compiled into each file that includes it, for that file's ISA and in its BERTC_ISA_NS
// (isa_ns.h): pooling.cc (the portable kernel) and pooling_<isa>.cc.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/cpu/isa_ns.h"
#include "kernels/cpu/vec.h"
#include "kernels/pooling.h"  // PoolMode

namespace bertc::cpu {
inline namespace BERTC_ISA_NS {

constexpr int64_t kPoolBlock = 64;  // columns per block: 64 doubles of accumulator

inline void pool_rows(const float* hidden, const int32_t* cu_seqlens, int64_t num_seqs,
                      int64_t hidden_size, PoolMode mode, float* out) {
#pragma omp parallel for schedule(static) if (cu_seqlens[num_seqs] * hidden_size >= kMinParallelFloats)
  for (int64_t b = 0; b < num_seqs; ++b) {
    const int64_t begin = cu_seqlens[b], end = cu_seqlens[b + 1];
    float* dst = out + b * hidden_size;
    const float* first = hidden + begin * hidden_size;
    if (mode == PoolMode::kMean) {
      const double inv_len = 1.0 / static_cast<double>(end - begin);
      for (int64_t c0 = 0; c0 < hidden_size; c0 += kPoolBlock) {
        const int64_t width = std::min(kPoolBlock, hidden_size - c0);
        double acc[kPoolBlock] = {};
        for (int64_t t = begin; t < end; ++t) {
          const float* row = hidden + t * hidden_size + c0;
          for (int64_t c = 0; c < width; ++c) acc[c] += row[c];
        }
        for (int64_t c = 0; c < width; ++c) dst[c0 + c] = static_cast<float>(acc[c] * inv_len);
      }
    } else {
      // kCls and kPooled take the first token; kMax folds the others in.
      std::copy(first, first + hidden_size, dst);
      if (mode == PoolMode::kMax) {
        for (int64_t t = begin + 1; t < end; ++t) {
          const float* row = hidden + t * hidden_size;
          for (int64_t c = 0; c < hidden_size; ++c) dst[c] = std::max(dst[c], row[c]);
        }
      }
    }
  }
}

}  // namespace BERTC_ISA_NS
}  // namespace bertc::cpu
