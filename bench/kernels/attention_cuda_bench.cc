// The CUDA attention paths over packed batches of B sequences of T tokens (or lengths uniform in
// 16..T when T is given as negative: a ragged batch), BERT-base heads (NH=12, D=64): the fused
// flash kernel (f16, bf16), cuBLAS batched GEMMs around the softmax kernel (f16, bf16) and the
// fp32 SIMT reference kernels (f32, f16). Args: B, T. Reports FLOP/s (QK^T and AV: 4·T²·H per
// sequence).
#include <algorithm>
#include <numeric>

#include "cuda_bench_util.h"

namespace bertc::bench {
namespace {

enum class Path { kSimt, kGemm, kFlash };

cublasHandle_t bench_cublas() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h;
    CUBLAS_CHECK(cublasCreate(&h));
    CUBLAS_CHECK(cublasSetStream(h, bench_stream()));
    return h;
  }();
  return handle;
}

template <typename T, Path kPath>
void BM_cuda_attention(benchmark::State& state) {
  const int64_t b = state.range(0), t_arg = state.range(1), num_heads = 12, head_dim = 64;
  const int64_t h = num_heads * head_dim;
  std::vector<int32_t> cu(b + 1, 0), lengths(b);
  unsigned seed = 12345;
  double flops = 0;
  for (int64_t i = 0; i < b; ++i) {
    seed = seed * 1664525u + 1013904223u;
    lengths[i] = t_arg > 0 ? static_cast<int32_t>(t_arg)
                           : static_cast<int32_t>(16 + (seed >> 8) % (-t_arg - 15));
    cu[i + 1] = cu[i] + lengths[i];
    flops += 4.0 * lengths[i] * lengths[i] * h;
  }
  const int64_t n = cu[b], seq_len_max = *std::max_element(lengths.begin(), lengths.end());
  DeviceArray q(n * h * sizeof(T)), k(n * h * sizeof(T)), v(n * h * sizeof(T)), out(n * h * sizeof(T));
  fill_random<T>(q, 1);
  fill_random<T>(k, 2);
  fill_random<T>(v, 3);
  std::vector<int32_t> order(b);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t c) { return lengths[a] < lengths[c]; });
  std::vector<int32_t> sorted(b);
  for (int64_t i = 0; i < b; ++i) sorted[i] = lengths[order[i]];
  DeviceArray d_cu(cu.size() * 4), d_order(order.size() * 4);
  copy_to_device(d_cu, cu.data(), d_cu.nbytes());
  copy_to_device(d_order, order.data(), d_order.nbytes());
  std::vector<cuda::AttentionGemmChunk> chunks;
  static const DeviceArray scratch(size_t{256} << 20);  // as the backend's
  if (kPath == Path::kGemm &&
      !cuda::attention_gemm_plan(sorted.data(), b, n, num_heads, head_dim, sizeof(T),
                                 scratch.nbytes(), chunks)) {
    state.SkipWithError("the gemm path does not take this shape");
    return;
  }
  time_on_device(state, [&](cudaStream_t stream) {
    const int32_t* cup = d_cu.as<int32_t>();
    if (kPath == Path::kFlash)
      cuda::attention_flash<T>(q.as<T>(), k.as<T>(), v.as<T>(), out.as<T>(), cup, b, seq_len_max,
                               num_heads, head_dim, stream);
    else if (kPath == Path::kGemm)
      cuda::attention_gemm<T>(q.as<T>(), k.as<T>(), v.as<T>(), out.as<T>(), cup,
                              d_order.as<int32_t>(), n, num_heads, head_dim, chunks,
                              scratch.as<void>(), bench_cublas(), false, stream);
    else
      cuda::attention_simt<T>(q.as<T>(), k.as<T>(), v.as<T>(), out.as<T>(), cup, b, n,
                              seq_len_max, num_heads, head_dim, stream);
  });
  state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

// 1 x 128, 32 x 128, 128 x 128, 32 x 512, and 32 sequences of 16..128 tokens.
const std::vector<std::vector<int64_t>> kShapes = {{1, 128}, {32, 128}, {128, 128}, {32, 512}, {32, -128}};
[[maybe_unused]] const bool registered =
    register_if_device("cuda_attention_flash<f16>", BM_cuda_attention<__half, Path::kFlash>, kShapes) &&
    register_if_device("cuda_attention_flash<bf16>", BM_cuda_attention<__nv_bfloat16, Path::kFlash>, kShapes) &&
    register_if_device("cuda_attention_gemm<f16>", BM_cuda_attention<__half, Path::kGemm>, kShapes) &&
    register_if_device("cuda_attention_gemm<bf16>", BM_cuda_attention<__nv_bfloat16, Path::kGemm>, kShapes) &&
    register_if_device("cuda_attention_simt<f16>", BM_cuda_attention<__half, Path::kSimt>, kShapes) &&
    register_if_device("cuda_attention_simt<f32>", BM_cuda_attention<float, Path::kSimt>, kShapes);

}  // namespace
}  // namespace bertc::bench
