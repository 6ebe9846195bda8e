// Helpers for the CUDA kernel benchmarks (*_cuda_bench.cc, built only with CUDA): device arrays,
// one stream for every copy and launch, CUDA-event timing with an L2 flush, and registration only
// when a device answers, so bertc_bench runs its CPU cases unchanged on a machine without a GPU.
// Each CUDA benchmark runs a fixed number of timed iterations (kIterations), so the whole trimmed
// set fits the GPU machine's few minutes (bench/gpu_check.sh); repetitions come from the command
// line.
#pragma once

#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <vector>

#include "engine/cuda_backend.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/kernels.h"

namespace bertc::bench {

// Larger than the L2 of an A100 (40 MB) or H100 (50 MB): rewriting it evicts the inputs, so a
// kernel is timed reading from HBM as in a real forward pass, not from a warm L2.
constexpr size_t kL2FlushBytes = size_t{96} << 20;

// Timed iterations per CUDA benchmark: with the flush, a few milliseconds for most kernels.
constexpr int kIterations = 50;

inline cudaStream_t bench_stream() {
  static cudaStream_t stream = [] {
    cudaStream_t s;
    CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    return s;
  }();
  return stream;
}

// Zeroed on bench_stream(), where every kernel runs: the legacy default stream (cudaMemset,
// cudaMemcpy) is not ordered with a non-blocking stream.
class DeviceArray {
 public:
  explicit DeviceArray(size_t nbytes) : nbytes_(nbytes) {
    CUDA_CHECK(cudaMalloc(&data_, nbytes));
    CUDA_CHECK(cudaMemsetAsync(data_, 0, nbytes, bench_stream()));
    CUDA_CHECK(cudaStreamSynchronize(bench_stream()));
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() { cudaFree(data_); }
  template <typename T>
  T* as() const { return static_cast<T*>(data_); }
  size_t nbytes() const { return nbytes_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
};

// Host bytes into a device array, on bench_stream(), finished on return.
inline void copy_to_device(const DeviceArray& a, const void* host, size_t nbytes) {
  CUDA_CHECK(cudaMemcpyAsync(a.as<void>(), host, nbytes, cudaMemcpyHostToDevice, bench_stream()));
  CUDA_CHECK(cudaStreamSynchronize(bench_stream()));
}

// Fills a device array of T with small values (zeros would make GELU, exp and the like cheaper
// than real data on some paths).
template <typename T>
void fill_random(const DeviceArray& a, unsigned seed) {
  std::vector<T> host(a.nbytes() / sizeof(T));
  unsigned x = seed * 2654435761u + 1;
  for (T& v : host) {
    x = x * 1664525u + 1013904223u;
    v = static_cast<T>(static_cast<float>(x >> 9) / static_cast<float>(1u << 23) - 0.5f);
  }
  copy_to_device(a, host.data(), a.nbytes());
}

// One flush buffer for the whole binary (a static inside the template below would be one per
// benchmark).
inline const DeviceArray& l2_flush_buffer() {
  static const DeviceArray flush(kL2FlushBytes);
  return flush;
}

// Times launch() with CUDA events around each run (manual time), after one warm-up run, with
// the L2 flushed before each run outside the timed region.
template <typename F>
void time_on_device(benchmark::State& state, F&& launch) {
  const cudaStream_t stream = bench_stream();
  const DeviceArray& flush = l2_flush_buffer();
  cudaEvent_t start, stop;
  CUDA_CHECK(cudaEventCreate(&start));
  CUDA_CHECK(cudaEventCreate(&stop));
  launch(stream);
  CUDA_CHECK(cudaStreamSynchronize(stream));
  for (auto _ : state) {
    CUDA_CHECK(cudaMemsetAsync(flush.as<void>(), 0, flush.nbytes(), stream));
    CUDA_CHECK(cudaEventRecord(start, stream));
    launch(stream);
    CUDA_CHECK(cudaEventRecord(stop, stream));
    CUDA_CHECK(cudaEventSynchronize(stop));
    float elapsed_ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&elapsed_ms, start, stop));
    state.SetIterationTime(elapsed_ms * 1e-3);
  }
  CUDA_CHECK(cudaEventDestroy(start));
  CUDA_CHECK(cudaEventDestroy(stop));
}

// Registers a CUDA benchmark only when a device is present; returns whether it did.
inline bool register_if_device(const char* name, void (*fn)(benchmark::State&),
                        const std::vector<std::vector<int64_t>>& args) {
  if (cuda_device_count() == 0) return false;
  auto* b = benchmark::RegisterBenchmark(name, fn);
  for (const auto& a : args) b->Args(a);
  b->UseManualTime()->Iterations(kIterations)->Unit(benchmark::kMicrosecond);
  return true;
}

}  // namespace bertc::bench
