// gemm: ref vs cpu at BERT-base shapes (N tokens x [out, in]); reports GFLOP/s (2 N M K flops).
// gemm/eigen and gemm/avx512 run each path of cpu::gemm on its own (kernels/cpu/gemm_paths.h).
#include "kernels/gemm.h"

#include <benchmark/benchmark.h>

#include "kernels/cpu/gemm_paths.h"

#include <new>
#include <type_traits>
#include <random>
#include <vector>

namespace bertc {
namespace {

// 64-byte aligned storage, as the engine's buffers and .bertc tensors are: std::vector's 16-byte
// alignment would split every AVX-512 load of a row across two cache lines.
template <typename T>
struct Aligned64 {
  using value_type = T;
  Aligned64() = default;
  template <typename U>
  Aligned64(const Aligned64<U>&) {}
  T* allocate(size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{64}));
  }
  void deallocate(T* p, size_t) { ::operator delete(p, std::align_val_t{64}); }
  bool operator==(const Aligned64&) const { return true; }
};
using Floats = std::vector<float, Aligned64<float>>;

Floats random_vec(int64_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Floats v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

// Epilogue: kBias, or kBiasGelu for gemm_gelu/* (the FFN-in layer with its activation fused).
template <auto Gemm, Epilogue E = Epilogue::kBias>
void bm_gemm(benchmark::State& state) {
  // ref::gemm takes no epilogue; every cpu path does.
  constexpr bool kIsRef = std::is_same_v<decltype(Gemm), decltype(&ref::gemm)>;
  if constexpr (!kIsRef) {
    if (Gemm == &cpu::gemm_avx512 && !cpu::has_avx512()) {
      state.SkipWithError("this CPU has no AVX-512");
      return;
    }
  }
  const int64_t n = state.range(0), m = state.range(1), k = state.range(2);
  const auto x = random_vec(n * k, 1), w = random_vec(m * k, 2), bias = random_vec(m, 3);
  Floats y(n * m);
  for (auto _ : state) {
    if constexpr (kIsRef) {
      Gemm(x.data(), w.data(), bias.data(), y.data(), n, m, k);
    } else {
      Gemm(x.data(), w.data(), bias.data(), y.data(), n, m, k, E);
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * m * k * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
}

// N x M x K: QKV (2304 x 768), attention output (768 x 768), FFN in (3072 x 768), FFN out (768 x 3072).
void bert_shapes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {8, 128, 2048})
    for (auto [m, k] : {std::pair<int64_t, int64_t>{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}})
      b->Args({n, m, k});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK(bm_gemm<ref::gemm>)->Name("gemm/ref")->Args({128, 768, 768})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(bm_gemm<cpu::gemm>)->Name("gemm/cpu")->Apply(bert_shapes);
BENCHMARK(bm_gemm<cpu::gemm_eigen>)->Name("gemm/eigen")->Apply(bert_shapes);
BENCHMARK(bm_gemm<cpu::gemm_avx512>)->Name("gemm/avx512")->Apply(bert_shapes);
// gemm/packed: the layout the CPU backend packs f32 weights into at load (cpu::gemm_packed).
void bm_gemm_packed(benchmark::State& state) {
  if (!cpu::gemm_packed_available()) {
    state.SkipWithError("this CPU has no AVX-512");
    return;
  }
  const int64_t n = state.range(0), m = state.range(1), k = state.range(2);
  const auto x = random_vec(n * k, 1), w = random_vec(m * k, 2), bias = random_vec(m, 3);
  Floats packed(static_cast<size_t>(cpu::gemm_packed_floats(m, k))), y(n * m);
  cpu::gemm_pack(w.data(), m, k, packed.data());
  for (auto _ : state) {
    cpu::gemm_packed(x.data(), packed.data(), bias.data(), y.data(), n, m, k);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * m * k * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(bm_gemm_packed)->Name("gemm/packed")->Apply(bert_shapes);
BENCHMARK(bm_gemm<cpu::gemm, Epilogue::kBiasGelu>)->Name("gemm_gelu/cpu")->Args({128, 3072, 768})->Args({2048, 3072, 768})->Unit(benchmark::kMillisecond)->UseRealTime();
// One short sentence: latency of the padded tail tile.
BENCHMARK(bm_gemm<cpu::gemm>)->Name("gemm/cpu")->Args({7, 3072, 768})->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace bertc
