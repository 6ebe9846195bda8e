// bertc::cuda::embedding (gather + LayerNorm) for N tokens of BERT-base (V=30522, H=768), f32
// and f16. Args: N. Reports bytes/s (three rows gathered, one written per token).
#include "cuda_bench_util.h"

namespace bertc::bench {
namespace {

template <typename T>
void BM_cuda_embedding(benchmark::State& state) {
  const int64_t n = state.range(0), vocab = 30522, positions = 512, hidden = 768;
  DeviceArray word(vocab * hidden * sizeof(T)), position(positions * hidden * sizeof(T));
  DeviceArray token_type(2 * hidden * sizeof(T)), gamma(hidden * sizeof(T)), beta(hidden * sizeof(T));
  DeviceArray out(n * hidden * sizeof(T));
  for (auto* a : {&word, &position, &token_type, &gamma, &beta}) fill_random<T>(*a, 1);
  std::vector<int32_t> ids(n), types(n, 0), pos(n);
  for (int64_t i = 0; i < n; ++i) {
    ids[i] = static_cast<int32_t>((i * 7919) % vocab);
    pos[i] = static_cast<int32_t>(i % 128);
  }
  DeviceArray d_ids(n * 4), d_types(n * 4), d_pos(n * 4);
  copy_to_device(d_ids, ids.data(), n * 4);
  copy_to_device(d_types, types.data(), n * 4);
  copy_to_device(d_pos, pos.data(), n * 4);
  time_on_device(state, [&](cudaStream_t stream) {
    cuda::embedding<T>(d_ids.as<int32_t>(), d_types.as<int32_t>(), d_pos.as<int32_t>(), n,
                       word.as<T>(), position.as<T>(), token_type.as<T>(), gamma.as<T>(),
                       beta.as<T>(), 1e-12f, hidden, out.as<T>(), stream);
  });
  state.SetBytesProcessed(state.iterations() * 4 * n * hidden * sizeof(T));
}

// 1 x 128 and 32 x 128 tokens.
const std::vector<std::vector<int64_t>> kShapes = {{128}, {4096}};
[[maybe_unused]] const bool registered =
    register_if_device("cuda_embedding<f32>", BM_cuda_embedding<float>, kShapes) &&
    register_if_device("cuda_embedding<f16>", BM_cuda_embedding<__half>, kShapes);

}  // namespace
}  // namespace bertc::bench
