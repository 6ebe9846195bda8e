// bertc::cuda::bias_residual_layer_norm at H=768 and 384 (the warp path) and H=769 (the general
// shared-memory path), f32 and f16. Args: N, H. Reports bytes/s (x, residual in; y out).
#include "cuda_bench_util.h"

namespace bertc::bench {
namespace {

template <typename T>
void BM_cuda_bias_residual_layer_norm(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1);
  DeviceArray x(rows * cols * sizeof(T)), residual(rows * cols * sizeof(T)), y(rows * cols * sizeof(T));
  DeviceArray bias(cols * sizeof(T)), gamma(cols * sizeof(T)), beta(cols * sizeof(T));
  for (auto* a : {&x, &residual, &bias, &gamma, &beta}) fill_random<T>(*a, 1);
  time_on_device(state, [&](cudaStream_t stream) {
    cuda::bias_residual_layer_norm<T>(x.as<T>(), bias.as<T>(), residual.as<T>(), gamma.as<T>(),
                                      beta.as<T>(), 1e-12f, y.as<T>(), rows, cols, stream);
  });
  state.SetBytesProcessed(state.iterations() * 3 * rows * cols * sizeof(T));
}

const std::vector<std::vector<int64_t>> kShapes = {{128, 768}, {4096, 768}, {16384, 768},
                                                   {4096, 384}, {4096, 769}};
[[maybe_unused]] const bool registered =
    register_if_device("cuda_bias_residual_layer_norm<f32>",
                       BM_cuda_bias_residual_layer_norm<float>, kShapes) &&
    register_if_device("cuda_bias_residual_layer_norm<f16>",
                       BM_cuda_bias_residual_layer_norm<__half>, kShapes);

}  // namespace
}  // namespace bertc::bench
