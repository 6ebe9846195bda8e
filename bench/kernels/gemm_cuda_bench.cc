// The CUDA GEMMs at BERT-base shapes: cuBLASLt (cuda::GemmLt, what the backend runs: the bias in
// the epilogue, Q/K/V as one batched launch) in f16, bf16, f32 (true fp32) and f32 with TF32, and
// the reference cublasGemmEx path (cuda::gemm: bias broadcast, beta = 1) in f16 to compare.
// Args: N, M, K, batch (3: the fused QKV launch). Reports FLOP/s.
#include <memory>

#include "cuda_bench_util.h"

namespace bertc::bench {
namespace {

cublasHandle_t bench_cublas() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h;
    CUBLAS_CHECK(cublasCreate(&h));
    CUBLAS_CHECK(cublasSetStream(h, bench_stream()));
    return h;
  }();
  return handle;
}

cuda::GemmLt& bench_lt() {
  static const DeviceArray workspace(size_t{32} << 20);
  static cuda::GemmLt lt(workspace.as<void>(), workspace.nbytes());
  return lt;
}

template <typename T, bool kAllowTf32, bool kLt>
void BM_cuda_gemm(benchmark::State& state) {
  const int64_t n = state.range(0), m = state.range(1), k = state.range(2);
  const int batch = static_cast<int>(state.range(3));
  DeviceArray x(n * k * sizeof(T)), w(batch * m * k * sizeof(T)), bias(batch * m * sizeof(T));
  DeviceArray y(batch * n * m * sizeof(T));
  fill_random<T>(x, 1);
  fill_random<T>(w, 2);
  fill_random<T>(bias, 3);
  time_on_device(state, [&](cudaStream_t stream) {
    if (kLt) {
      const bool ran = bench_lt().run<T>(x.as<T>(), w.as<T>(), bias.as<T>(), y.as<T>(), n, m, k,
                                         batch, m * k, m, n * m, kAllowTf32, stream);
      if (!ran) state.SkipWithError("cuBLASLt has no algorithm for this shape");
    } else {
      for (int b = 0; b < batch; ++b)
        cuda::gemm<T>(x.as<T>(), w.as<T>() + b * m * k, bias.as<T>() + b * m, y.as<T>() + b * n * m,
                      n, m, k, bench_cublas(), kAllowTf32, stream);
    }
  });
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * n * m * k * batch,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

// Per layer of BERT-base: Q/K/V (768 -> 3 x 768, one launch), attention output (768 -> 768), FFN
// up (768 -> 3072) and down (3072 -> 768), for N = 128, 4096, 16384 tokens (1, 32, 128 x 128).
std::vector<std::vector<int64_t>> shapes() {
  std::vector<std::vector<int64_t>> out;
  for (int64_t n : {128, 4096, 16384})
    for (const auto& mkb : std::vector<std::vector<int64_t>>{{768, 768, 3}, {768, 768, 1},
                                                             {3072, 768, 1}, {768, 3072, 1}})
      out.push_back({n, mkb[0], mkb[1], mkb[2]});
  return out;
}

[[maybe_unused]] const bool registered =
    register_if_device("cuda_gemm_lt<f16>", BM_cuda_gemm<__half, false, true>, shapes()) &&
    register_if_device("cuda_gemm_lt<bf16>", BM_cuda_gemm<__nv_bfloat16, false, true>, shapes()) &&
    register_if_device("cuda_gemm_lt<f32>", BM_cuda_gemm<float, false, true>, shapes()) &&
    register_if_device("cuda_gemm_lt<f32,tf32>", BM_cuda_gemm<float, true, true>, shapes()) &&
    register_if_device("cuda_gemm_cublas<f16>", BM_cuda_gemm<__half, false, false>, shapes());

}  // namespace
}  // namespace bertc::bench
