// topk: one query's top-10 over R x D embeddings (the search scan), f32 and f16 storage, plus the
// reference on a small size. Bytes processed = the matrix bytes read per query: the scan is
// memory-bound, so compare GB/s with the machine's ~32 GB/s read bandwidth.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "engine/dtype.h"
#include "kernels/topk.h"

namespace bertc {
namespace {

// Uniform values in [-1, 1) from a 64-bit LCG: generating 900M values with <random> would take
// longer than the benchmark itself.
std::vector<float> make_rows(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  uint64_t s = 0x9e3779b97f4a7c15ull;
  for (float& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<float>(static_cast<int64_t>(s >> 11) - (int64_t{1} << 52)) * 0x1p-52f;
  }
  return v;
}

// Args: rows, dim, threads (0: all cores; 1 gives a per-core figure that a busy machine distorts
// less, since CPU time then covers all the work).
void BM_topk_cpu(benchmark::State& state) {
  const int64_t rows = state.range(0), dim = state.range(1), k = 10;
  const int threads = static_cast<int>(state.range(2));
  std::vector<float> m = make_rows(rows * dim), q = make_rows(dim);
  std::vector<int64_t> idx(k);
  std::vector<float> s(k);
  for (auto _ : state) {
    cpu::topk(m.data(), rows, dim, q.data(), 1, k, idx.data(), s.data(), threads);
    benchmark::DoNotOptimize(idx.data());
  }
  state.SetBytesProcessed(state.iterations() * rows * dim * 4);
}

void BM_topk_f16_cpu(benchmark::State& state) {
  const int64_t rows = state.range(0), dim = state.range(1), k = 10;
  const int threads = static_cast<int>(state.range(2));
  std::vector<uint16_t> m(static_cast<size_t>(rows * dim));
  {
    std::vector<float> f = make_rows(rows * dim);
    for (size_t i = 0; i < m.size(); ++i) m[i] = f32_to_f16(f[i]);
  }
  std::vector<float> q = make_rows(dim);
  std::vector<int64_t> idx(k);
  std::vector<float> s(k);
  for (auto _ : state) {
    cpu::topk_f16(m.data(), rows, dim, q.data(), 1, k, idx.data(), s.data(), threads);
    benchmark::DoNotOptimize(idx.data());
  }
  state.SetBytesProcessed(state.iterations() * rows * dim * 2);
}

void BM_topk_ref(benchmark::State& state) {
  const int64_t rows = state.range(0), dim = state.range(1), k = 10;
  std::vector<float> m = make_rows(rows * dim), q = make_rows(dim);
  std::vector<int64_t> idx(k);
  std::vector<float> s(k);
  for (auto _ : state) {
    ref::topk(m.data(), rows, dim, q.data(), 1, k, idx.data(), s.data());
    benchmark::DoNotOptimize(idx.data());
  }
  state.SetBytesProcessed(state.iterations() * rows * dim * 4);
}

// 16 queries at once: the blocked GEMM path, as in `bertc search --queries FILE`.
void BM_topk_cpu_batch16(benchmark::State& state) {
  const int64_t rows = state.range(0), dim = state.range(1), k = 10, nq = 16;
  std::vector<float> m = make_rows(rows * dim), q = make_rows(nq * dim);
  std::vector<int64_t> idx(nq * k);
  std::vector<float> s(nq * k);
  for (auto _ : state) {
    cpu::topk(m.data(), rows, dim, q.data(), nq, k, idx.data(), s.data());
    benchmark::DoNotOptimize(idx.data());
  }
  state.SetBytesProcessed(state.iterations() * rows * dim * 4);
  state.counters["queries_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * nq), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_topk_ref)->Args({100000, 300})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_topk_cpu)
    ->Args({100000, 300, 0})
    ->Args({1000000, 300, 0})
    ->Args({3000000, 300, 0})
    ->Args({3000000, 300, 1})
    ->Args({1000000, 768, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_topk_f16_cpu)
    ->Args({1000000, 300, 0})
    ->Args({3000000, 300, 0})
    ->Args({3000000, 300, 1})
    ->Args({1000000, 768, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_topk_cpu_batch16)->Args({1000000, 300})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace bertc
