// bertc::cuda::l2_normalize in place over N rows of H=768, f32 and f16. Args: N, H.
// Reports bytes/s (two reads, one write per element).
#include "cuda_bench_util.h"

namespace bertc::bench {
namespace {

template <typename T>
void BM_cuda_l2_normalize(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1);
  DeviceArray x(rows * cols * sizeof(T));
  fill_random<T>(x, 1);
  time_on_device(state, [&](cudaStream_t stream) {
    cuda::l2_normalize<T>(x.as<T>(), rows, cols, stream);
  });
  state.SetBytesProcessed(state.iterations() * 3 * rows * cols * sizeof(T));
}

const std::vector<std::vector<int64_t>> kShapes = {{128, 768}, {2048, 768}, {16384, 768}};
[[maybe_unused]] const bool registered =
    register_if_device("cuda_l2_normalize<f32>", BM_cuda_l2_normalize<float>, kShapes) &&
    register_if_device("cuda_l2_normalize<f16>", BM_cuda_l2_normalize<__half>, kShapes);

}  // namespace
}  // namespace bertc::bench
