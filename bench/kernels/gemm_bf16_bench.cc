// gemm_bf16: cpu::gemm_bf16 at BERT-base shapes (N tokens x [out, in]), GFLOP/s = 2 N M K / s;
// gemm_bf16/avx512bf16 and gemm_bf16/portable run those paths on their own (the first is what a
// Zen 4 runs, the second a CPU without bf16 instructions). Compare with gemm/avx512 (fp32).
#include "kernels/gemm_bf16.h"

#include <benchmark/benchmark.h>

#include <random>
#include <utility>
#include <vector>

#include "kernels/cpu/gemm_bf16_paths.h"

namespace bertc {
namespace {

std::vector<float> random_vec(int64_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(gen);
  return v;
}

void bm_gemm_bf16(benchmark::State& state) {
  const int64_t n = state.range(0), m = state.range(1), k = state.range(2);
  const auto x = random_vec(n * k, 1), w = random_vec(m * k, 2), bias = random_vec(m, 3);
  std::vector<uint16_t> packed(static_cast<size_t>(gemm_bf16_packed_elems(m, k)));
  gemm_bf16_pack(w.data(), m, k, packed.data());
  std::vector<float> y(static_cast<size_t>(n * m));
  for (auto _ : state) {
    cpu::gemm_bf16(x.data(), packed.data(), bias.data(), y.data(), n, m, k);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * m * k * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
  state.SetLabel(cpu::gemm_bf16_path_name());
}

// One path on its own, on x already rounded (as cpu::gemm_bf16 passes it).
template <auto Path>
void bm_gemm_bf16_path(benchmark::State& state) {
  if (Path == &cpu::gemm_bf16_avx512 && !cpu::has_avx512_bf16()) {
    state.SkipWithError("this CPU has no AVX512-BF16");
    return;
  }
  const int64_t n = state.range(0), m = state.range(1), k = state.range(2);
  const auto x = random_vec(n * k, 1), w = random_vec(m * k, 2), bias = random_vec(m, 3);
  std::vector<uint16_t> packed(static_cast<size_t>(gemm_bf16_packed_elems(m, k)));
  gemm_bf16_pack(w.data(), m, k, packed.data());
  std::vector<uint16_t> xb(static_cast<size_t>((n + 31) / 32 * 32 * ((k + 31) / 32 * 32)));
  cpu::gemm_bf16_round_x(x.data(), n, k, xb.data());
  std::vector<float> y(static_cast<size_t>(n * m));
  for (auto _ : state) {
    Path(xb.data(), packed.data(), bias.data(), y.data(), n, m, k);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * m * k * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
}

// N x M x K: attention projections (768 x 768), FFN in (3072 x 768), FFN out (768 x 3072).
void bert_shapes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {8, 128, 2048})
    for (auto [m, k] : {std::pair<int64_t, int64_t>{768, 768}, {3072, 768}, {768, 3072}})
      b->Args({n, m, k});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK(bm_gemm_bf16)->Name("gemm_bf16/cpu")->Apply(bert_shapes);
BENCHMARK(bm_gemm_bf16_path<cpu::gemm_bf16_avx512>)->Name("gemm_bf16/avx512bf16")->Apply(bert_shapes);
BENCHMARK(bm_gemm_bf16_path<cpu::gemm_bf16_portable>)->Name("gemm_bf16/portable")->Apply(bert_shapes);

}  // namespace
}  // namespace bertc
