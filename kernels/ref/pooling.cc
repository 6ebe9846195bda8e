// Reference pooling: CLS / mean / max per sequence, mean accumulated in double.
#include "kernels/pooling.h"

#include <algorithm>

namespace bertc::ref {

void pool(const float* hidden, const int32_t* cu_seqlens, int64_t num_seqs, int64_t hidden_size,
          PoolMode mode, float* out) {
  for (int64_t b = 0; b < num_seqs; ++b) {
    const int64_t begin = cu_seqlens[b], end = cu_seqlens[b + 1];
    for (int64_t c = 0; c < hidden_size; ++c) {
      float value = hidden[begin * hidden_size + c];
      if (mode == PoolMode::kMean) {
        double sum = 0;
        for (int64_t t = begin; t < end; ++t) sum += hidden[t * hidden_size + c];
        value = static_cast<float>(sum / static_cast<double>(end - begin));
      } else if (mode == PoolMode::kMax) {
        for (int64_t t = begin; t < end; ++t) value = std::max(value, hidden[t * hidden_size + c]);
      }
      out[b * hidden_size + c] = value;
    }
  }
}

}  // namespace bertc::ref
