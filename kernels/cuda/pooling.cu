// Pooling of the packed hidden states per sequence (cls / mean / max), fp32 accumulation; checked
// against bertc::ref::pool in tests/kernels/pooling_cuda_test.cc.
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace bertc::cuda {
namespace {

// grid (sequence, column block): consecutive threads read consecutive columns of a token.
template <typename T>
__global__ void pool_kernel(const T* __restrict__ hidden, const int32_t* __restrict__ cu_seqlens,
                            int64_t hidden_size, PoolMode mode, T* __restrict__ out) {
  const int64_t c = blockIdx.y * int64_t{blockDim.x} + threadIdx.x;
  if (c >= hidden_size) return;
  const int64_t seq = blockIdx.x;
  const int64_t begin = cu_seqlens[seq];
  const int64_t end = cu_seqlens[seq + 1];
  float acc;
  if (mode == PoolMode::kMean || mode == PoolMode::kMax) {
    acc = mode == PoolMode::kMean ? 0.0f : -INFINITY;
    for (int64_t t = begin; t < end; ++t) {
      const float v = to_float(hidden[t * hidden_size + c]);
      acc = mode == PoolMode::kMean ? acc + v : fmaxf(acc, v);
    }
    // An empty sequence (never produced by the tokenizer, which adds [CLS]/[SEP]) pools to zero.
    if (end == begin) acc = 0.0f;
    else if (mode == PoolMode::kMean) acc /= static_cast<float>(end - begin);
  } else {
    acc = end > begin ? to_float(hidden[begin * hidden_size + c]) : 0.0f;
  }
  out[seq * hidden_size + c] = from_float<T>(acc);
}

}  // namespace

template <typename T>
void pool(const T* hidden, const int32_t* cu_seqlens, int64_t num_seqs, int64_t hidden_size,
          PoolMode mode, T* out, cudaStream_t stream) {
  if (num_seqs == 0 || hidden_size == 0) return;
  BERTC_CHECK(num_seqs <= 0x7fffffff, "pool: ", num_seqs, " sequences exceed the CUDA grid");
  constexpr int kThreads = 128;
  const dim3 grid(static_cast<unsigned>(num_seqs),
                  static_cast<unsigned>((hidden_size + kThreads - 1) / kThreads));
  pool_kernel<T><<<grid, kThreads, 0, stream>>>(hidden, cu_seqlens, hidden_size, mode, out);
  BERTC_CUDA_LAUNCH_CHECK(stream, "pool_kernel");
}

#define BERTC_INSTANTIATE_POOL(T) \
  template void pool<T>(const T*, const int32_t*, int64_t, int64_t, PoolMode, T*, cudaStream_t);
BERTC_CUDA_INSTANTIATE(BERTC_INSTANTIATE_POOL)

}  // namespace bertc::cuda
