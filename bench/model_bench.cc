// The whole model at bert-base shape with random weights on the CPU backend: latency per
// batch x seq, with sequences/s, tokens/s and GFLOP/s (2·m·n·k over every matmul incl. attention).
//   ./build/bench/bertc_bench --benchmark_filter=BM_Model --benchmark_repetitions=5
//   --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <memory>

#include "engine/bert.h"
#include "engine/make_backend.h"

namespace bertc {
namespace {

constexpr int64_t kMaxTokens = 32 * 128;

BertModel& bert_base_model() {
  static std::unique_ptr<BertModel> model = [] {
    BackendOptions bo;
    bo.max_tokens = kMaxTokens;
    bo.max_seqs = 32;
    return std::make_unique<BertModel>(WeightSource::random(bert_base_config(), 42),
                                       make_backend(bo), kMaxTokens);
  }();
  return *model;
}

void BM_Model(benchmark::State& state) {
  const int64_t B = state.range(0), T = state.range(1);
  BertModel& model = bert_base_model();
  PackedBatch batch;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<int32_t> ids(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) ids[static_cast<size_t>(t)] = static_cast<int32_t>((b * 7919 + t * 104729) % 30522);
    batch.add(ids, {});
  }
  for (auto _ : state) {
    const Tensor h = model.encode(batch, model.num_layers());
    benchmark::DoNotOptimize(model.pool(h, PoolMode::kPooled, false).data);
    model.backend().synchronize();
  }
  const auto iters = static_cast<double>(state.iterations());
  state.counters["seq/s"] = benchmark::Counter(static_cast<double>(B) * iters, benchmark::Counter::kIsRate);
  state.counters["tok/s"] = benchmark::Counter(static_cast<double>(B * T) * iters, benchmark::Counter::kIsRate);
  state.counters["FLOP/s"] = benchmark::Counter(model.flops(batch) * iters, benchmark::Counter::kIsRate,
                                                benchmark::Counter::kIs1000);
}
BENCHMARK(BM_Model)
    ->ArgNames({"batch", "seq"})
    ->Args({1, 8})->Args({1, 128})->Args({8, 128})->Args({32, 128})->Args({1, 512})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace bertc
