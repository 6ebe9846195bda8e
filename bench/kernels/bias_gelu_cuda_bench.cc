// bertc::cuda::bias_gelu on the FFN activations [N, 3072], f32 and f16. Args: N, I.
// Memory-bound: reports bytes/s (one read and one write of x).
#include "cuda_bench_util.h"

namespace bertc::bench {
namespace {

template <typename T>
void BM_cuda_bias_gelu(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1);
  DeviceArray x(rows * cols * sizeof(T)), bias(cols * sizeof(T));
  fill_random<T>(x, 1);
  fill_random<T>(bias, 2);
  time_on_device(state, [&](cudaStream_t stream) {
    cuda::bias_gelu<T>(x.as<T>(), bias.as<T>(), rows, cols, stream);
  });
  state.SetBytesProcessed(state.iterations() * 2 * rows * cols * sizeof(T));
}

// 1, 32 and 128 sequences of 128 tokens.
const std::vector<std::vector<int64_t>> kShapes = {{128, 3072}, {4096, 3072}, {16384, 3072}};
[[maybe_unused]] const bool registered =
    register_if_device("cuda_bias_gelu<f32>", BM_cuda_bias_gelu<float>, kShapes) &&
    register_if_device("cuda_bias_gelu<f16>", BM_cuda_bias_gelu<__half>, kShapes);

}  // namespace
}  // namespace bertc::bench
