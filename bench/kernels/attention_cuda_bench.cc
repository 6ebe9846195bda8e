// bertc::cuda::attention over packed batches of B sequences of T tokens, BERT-base heads
// (NH=12, D=64), f32 and f16. Args: B, T. Reports FLOP/s (QK^T and AV: 4·B·T²·H).
#include "cuda_bench_util.h"

namespace bertc::bench {
namespace {

template <typename T>
void BM_cuda_attention(benchmark::State& state) {
  const int64_t b = state.range(0), t = state.range(1), num_heads = 12, head_dim = 64;
  const int64_t n = b * t, h = num_heads * head_dim;
  DeviceArray q(n * h * sizeof(T)), k(n * h * sizeof(T)), v(n * h * sizeof(T)), out(n * h * sizeof(T));
  fill_random<T>(q, 1);
  fill_random<T>(k, 2);
  fill_random<T>(v, 3);
  std::vector<int32_t> cu(b + 1);
  for (int64_t i = 0; i <= b; ++i) cu[i] = static_cast<int32_t>(i * t);
  DeviceArray cu_seqlens(cu.size() * sizeof(int32_t));
  CUDA_CHECK(cudaMemcpy(cu_seqlens.as<void>(), cu.data(), cu_seqlens.nbytes(), cudaMemcpyHostToDevice));
  time_on_device(state, [&](cudaStream_t stream) {
    cuda::attention<T>(q.as<T>(), k.as<T>(), v.as<T>(), out.as<T>(), cu_seqlens.as<int32_t>(), b,
                       n, t, num_heads, head_dim, stream);
  });
  state.counters["FLOP/s"] = benchmark::Counter(4.0 * b * t * t * h,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

const std::vector<std::vector<int64_t>> kShapes = {{1, 128}, {32, 128}, {128, 128}, {32, 512}};
[[maybe_unused]] const bool registered = register_if_device("cuda_attention<f32>", BM_cuda_attention<float>, kShapes) &&
                        register_if_device("cuda_attention<f16>", BM_cuda_attention<__half>, kShapes);

}  // namespace
}  // namespace bertc::bench
