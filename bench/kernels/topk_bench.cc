// topk: one query's top-10 over R x D embeddings (the search scan), f32 and f16 storage, plus the
// reference on a small size. Bytes processed = the matrix bytes read per query: the scan is
// memory-bound, so compare GB/s with the machine's ~32 GB/s read bandwidth.
// "cpu" runs the process plan (kernels/cpu/cpu_plan.h): BERTC_CPU=portable|avx2|... picks another.
#include <benchmark/benchmark.h>
#include <sys/mman.h>

#include <cstdint>
#include <new>
#include <type_traits>
#include <vector>

#include "common/dtype.h"
#include "kernels/cpu/cpu_plan.h"
#include "kernels/topk.h"

namespace bertc {
namespace {

// Uniform values in [-1, 1) from a 64-bit LCG: generating 900M values with <random> would take
// longer than the benchmark itself.
float next_value(uint64_t& s) {
  s = s * 6364136223846793005ull + 1442695040888963407ull;
  return static_cast<float>(static_cast<int64_t>(s >> 11) - (int64_t{1} << 52)) * 0x1p-52f;
}

std::vector<float> make_rows(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  uint64_t s = 0x9e3779b97f4a7c15ull;
  for (float& x : v) x = next_value(s);
  return v;
}

// The matrix in an anonymous mapping, on transparent huge pages when `huge` (MADV_HUGEPAGE: this
// machine's THP mode is madvise). A scan on 4 KB pages pays a page walk every 4 KB and restarts
// the hardware prefetcher; numpy asks for huge pages for large arrays. bertc's own corpora are
// file mappings (.bertc, index .npy), which stay on 4 KB pages.
template <typename T>
struct MappedMatrix {
  MappedMatrix(int64_t n, bool huge) : nbytes(static_cast<size_t>(n) * sizeof(T)) {
    void* p = ::mmap(nullptr, nbytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    if (huge) ::madvise(p, nbytes, MADV_HUGEPAGE);
    data = static_cast<T*>(p);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_same_v<T, uint16_t>) {
        data[i] = f32_to_f16(next_value(s));
      } else {
        data[i] = next_value(s);
      }
    }
  }
  ~MappedMatrix() { ::munmap(data, nbytes); }
  MappedMatrix(const MappedMatrix&) = delete;
  MappedMatrix& operator=(const MappedMatrix&) = delete;
  size_t nbytes;
  T* data;
};

// Args: rows, dim, threads (0: all cores; 1 gives a per-core figure that a busy machine distorts
// less, since CPU time then covers all the work), huge pages (0 or 1).
void BM_topk_cpu(benchmark::State& state) {
  const int64_t rows = state.range(0), dim = state.range(1), k = 10;
  const int threads = static_cast<int>(state.range(2));
  MappedMatrix<float> m(rows * dim, state.range(3) != 0);
  std::vector<float> q = make_rows(dim);
  std::vector<int64_t> idx(k);
  std::vector<float> s(k);
  for (auto _ : state) {
    cpu::process_kernels().topk(m.data, rows, dim, q.data(), 1, k, idx.data(), s.data(), threads);
    benchmark::DoNotOptimize(idx.data());
  }
  state.SetBytesProcessed(state.iterations() * rows * dim * 4);
}

void BM_topk_f16_cpu(benchmark::State& state) {
  const int64_t rows = state.range(0), dim = state.range(1), k = 10;
  const int threads = static_cast<int>(state.range(2));
  MappedMatrix<uint16_t> m(rows * dim, state.range(3) != 0);
  std::vector<float> q = make_rows(dim);
  std::vector<int64_t> idx(k);
  std::vector<float> s(k);
  for (auto _ : state) {
    cpu::process_kernels().topk_f16(m.data, rows, dim, q.data(), 1, k, idx.data(), s.data(),
                                    threads);
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
    cpu::process_kernels().topk(m.data(), rows, dim, q.data(), nq, k, idx.data(), s.data(), 0);
    benchmark::DoNotOptimize(idx.data());
  }
  state.SetBytesProcessed(state.iterations() * rows * dim * 4);
  state.counters["queries_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * nq), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_topk_ref)->Args({100000, 300})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_topk_cpu)
    ->Args({100000, 300, 0, 0})
    ->Args({1000000, 300, 0, 0})
    ->Args({3000000, 300, 0, 0})
    ->Args({3000000, 300, 1, 0})
    ->Args({3000000, 300, 0, 1})
    ->Args({1000000, 768, 0, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_topk_f16_cpu)
    ->Args({1000000, 300, 0, 0})
    ->Args({3000000, 300, 0, 0})
    ->Args({3000000, 300, 1, 0})
    ->Args({3000000, 300, 0, 1})
    ->Args({1000000, 768, 0, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_topk_cpu_batch16)->Args({1000000, 300})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace bertc
