// cuBLAS gemm (bertc::cuda::gemm) at BERT-base shapes in f32 (true fp32), f32 with TF32, f16 and
// bf16: y[N, M] = x[N, K] · w[M, K]^T + bias. Args: N, M, K. Reports FLOP/s.
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

template <typename T, bool kAllowTf32>
void BM_cuda_gemm(benchmark::State& state) {
  const int64_t n = state.range(0), m = state.range(1), k = state.range(2);
  DeviceArray x(n * k * sizeof(T)), w(m * k * sizeof(T)), bias(m * sizeof(T)), y(n * m * sizeof(T));
  fill_random<T>(x, 1);
  fill_random<T>(w, 2);
  fill_random<T>(bias, 3);
  time_on_device(state, [&](cudaStream_t stream) {
    cuda::gemm<T>(x.as<T>(), w.as<T>(), bias.as<T>(), y.as<T>(), n, m, k, bench_cublas(),
                  kAllowTf32, stream);
  });
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * n * m * k,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

// QKV (768 -> 2304), FFN up (768 -> 3072) and down (3072 -> 768) for N tokens.
const std::vector<std::vector<int64_t>> kShapes = {
    {128, 2304, 768},   {2048, 2304, 768},   {16384, 2304, 768},
    {128, 3072, 768},   {2048, 3072, 768},   {16384, 3072, 768},
    {128, 768, 3072},   {2048, 768, 3072},   {16384, 768, 3072}};

[[maybe_unused]] const bool registered = register_if_device("cuda_gemm<f32>", BM_cuda_gemm<float, false>, kShapes) &&
                        register_if_device("cuda_gemm<f32,tf32>", BM_cuda_gemm<float, true>, kShapes) &&
                        register_if_device("cuda_gemm<f16>", BM_cuda_gemm<__half, false>, kShapes) &&
                        register_if_device("cuda_gemm<bf16>", BM_cuda_gemm<__nv_bfloat16, false>, kShapes);

}  // namespace
}  // namespace bertc::bench
