// bertc::cuda::tanh in place over B pooled rows of H=768, f32 and f16. Args: elements.
// Reports bytes/s (one read, one write).
#include "cuda_bench_util.h"

namespace bertc::bench {
namespace {

template <typename T>
void BM_cuda_tanh(benchmark::State& state) {
  const int64_t n = state.range(0);
  DeviceArray x(n * sizeof(T));
  fill_random<T>(x, 1);
  time_on_device(state, [&](cudaStream_t stream) { cuda::tanh<T>(x.as<T>(), n, stream); });
  state.SetBytesProcessed(state.iterations() * 2 * n * sizeof(T));
}

const std::vector<std::vector<int64_t>> kShapes = {{128 * 768}, {2048 * 768}, {16384 * 768}};
[[maybe_unused]] const bool registered =
    register_if_device("cuda_tanh<f32>", BM_cuda_tanh<float>, kShapes) &&
    register_if_device("cuda_tanh<f16>", BM_cuda_tanh<__half>, kShapes);

}  // namespace
}  // namespace bertc::bench
