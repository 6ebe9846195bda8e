// bertc::cuda::pool (mean) over B sequences of T tokens at H=768, f32 and f16. Args: B, T.
// Reports bytes/s (the hidden states read once).
#include "cuda_bench_util.h"

namespace bertc::bench {
namespace {

template <typename T>
void BM_cuda_pool_mean(benchmark::State& state) {
  const int64_t b = state.range(0), t = state.range(1), h = 768, n = b * t;
  DeviceArray hidden(n * h * sizeof(T)), out(b * h * sizeof(T));
  fill_random<T>(hidden, 1);
  std::vector<int32_t> cu(b + 1);
  for (int64_t i = 0; i <= b; ++i) cu[i] = static_cast<int32_t>(i * t);
  DeviceArray cu_seqlens(cu.size() * sizeof(int32_t));
  copy_to_device(cu_seqlens, cu.data(), cu_seqlens.nbytes());
  time_on_device(state, [&](cudaStream_t stream) {
    cuda::pool<T>(hidden.as<T>(), cu_seqlens.as<int32_t>(), b, h, PoolMode::kMean, out.as<T>(),
                  stream);
  });
  state.SetBytesProcessed(state.iterations() * n * h * sizeof(T));
}

const std::vector<std::vector<int64_t>> kShapes = {{1, 128}, {16, 128}, {128, 128}};
[[maybe_unused]] const bool registered =
    register_if_device("cuda_pool_mean<f32>", BM_cuda_pool_mean<float>, kShapes) &&
    register_if_device("cuda_pool_mean<f16>", BM_cuda_pool_mean<__half>, kShapes);

}  // namespace
}  // namespace bertc::bench
