// gemm: ref vs every ISA's packed gemm (gemm/<isa>, kernels/cpu/cpu_plan.h; gemm/portable is Eigen)
// at BERT-base shapes (N tokens x [out, in]); reports GFLOP/s (2 N M K flops). An ISA this CPU
// lacks reports the reason as an error.
#include "kernels/gemm.h"

#include <benchmark/benchmark.h>

#include <string>

#include "kernels/cpu/cpu_plan.h"

#include <new>
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

void bm_gemm_ref(benchmark::State& state) {
  const int64_t n = state.range(0), m = state.range(1), k = state.range(2);
  const auto x = random_vec(n * k, 1), w = random_vec(m * k, 2), bias = random_vec(m, 3);
  Floats y(n * m);
  for (auto _ : state) {
    ref::gemm(x.data(), w.data(), bias.data(), y.data(), n, m, k);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * m * k * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
}

// The ISA's packed gemm on w packed as the CPU backend packs it at load.
void bm_gemm_isa(benchmark::State& state, cpu::Isa isa, Epilogue epilogue) {
  if (const std::string why = cpu::isa_unavailable_reason(isa); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  const cpu::CpuKernels& kernels = cpu::cpu_kernels(isa);
  const int64_t n = state.range(0), m = state.range(1), k = state.range(2);
  const auto x = random_vec(n * k, 1), w = random_vec(m * k, 2), bias = random_vec(m, 3);
  Floats packed(static_cast<size_t>(kernels.gemm_packed_floats(m, k))), y(n * m);
  kernels.gemm_pack(w.data(), m, k, packed.data());
  for (auto _ : state) {
    kernels.gemm_packed(x.data(), packed.data(), bias.data(), y.data(), n, m, k, epilogue);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * m * k * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
  state.SetLabel(kernels.gemm_packed.impl);
}

// N x M x K: QKV (2304 x 768), attention output (768 x 768), FFN in (3072 x 768), FFN out (768 x 3072).
void bert_shapes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {8, 128, 2048})
    for (auto [m, k] : {std::pair<int64_t, int64_t>{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}})
      b->Args({n, m, k});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK(bm_gemm_ref)->Name("gemm/ref")->Args({128, 768, 768})->Unit(benchmark::kMillisecond)->UseRealTime();

// gemm/<isa> at every BERT shape, gemm_gelu/<isa> (the FFN-in layer with its activation fused),
// and one short sentence (7 rows: the latency of a tail tile).
const bool kRegistered = [] {
  for (cpu::Isa isa : cpu::kAllIsas) {
    const std::string name = cpu::isa_name(isa);
    benchmark::RegisterBenchmark(("gemm/" + name).c_str(), bm_gemm_isa, isa, Epilogue::kBias)
        ->Apply(bert_shapes);
    benchmark::RegisterBenchmark(("gemm_gelu/" + name).c_str(), bm_gemm_isa, isa,
                                 Epilogue::kBiasGelu)
        ->Args({128, 3072, 768})->Args({2048, 3072, 768})->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(("gemm/" + name).c_str(), bm_gemm_isa, isa, Epilogue::kBias)
        ->Args({7, 3072, 768})->Unit(benchmark::kMicrosecond)->UseRealTime();
  }
  return true;
}();

}  // namespace
}  // namespace bertc
