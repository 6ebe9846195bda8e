// bertc bench: the whole model (embeddings, every layer, pooler) on random token ids per
// batch x seq shape: median latency, sequences/s, tokens/s, GFLOP/s (2·m·n·k over every matmul,
// attention included) and peak RSS. Weights from a .bertc file or random in memory.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/bert.h"
#include "engine/error.h"
#include "engine/make_backend.h"
#include "engine/strings.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "weights/model_file.h"

namespace bertc {
namespace {

struct BenchShape {
  int64_t batch = 0, seq = 0;
};

std::vector<BenchShape> parse_shapes(const std::string& spec) {
  std::vector<BenchShape> out;
  for (const std::string& word : split_list(spec)) {
    char x = 0, extra = 0;
    long long b = 0, t = 0;
    if (std::sscanf(word.c_str(), "%lld%c%lld%c", &b, &x, &t, &extra) != 3 || x != 'x' || b < 1 || t < 1)
      throw UsageError(str_cat("--shapes: '", word, "' is not BATCHxSEQ (e.g. 32x128)"));
    out.push_back({b, t});
  }
  return out;
}

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
}


}  // namespace

int run_bench(const Args& args) {
  CLI::App app{"Whole-model throughput on random token ids", "bertc bench"};
  std::string model_path, random, shapes_spec = "1x8,1x128,8x128,32x128,1x512", device = "cpu";
  std::string dtype = "f32", format = "table";
  int threads = 0, reps = 10;
  bool allow_tf32 = false;
  app.add_option("-m,--model", model_path, "a .bertc model")->group("Model");
  app.add_option("--random", random, "random weights in memory: bert-base | tiny")
      ->group("Model")->check(CLI::IsMember({"bert-base", "tiny"}));
  app.add_option("--shapes", shapes_spec, "BATCHxSEQ list")->group("Run")->capture_default_str();
  app.add_option("--reps", reps, "timed runs per shape (after one warm-up)")
      ->group("Run")->capture_default_str();
  app.add_option("--format", format, "table | jsonl")->group("Output")->capture_default_str()
      ->check(CLI::IsMember({"table", "jsonl"}));
  app.add_option("--device", device, "cpu | cuda | auto")->group("Device")->capture_default_str();
  app.add_option("--dtype", dtype, "f32 | f16 | bf16 (f16/bf16: CUDA only)")
      ->group("Device")->capture_default_str()->check(CLI::IsMember({"f32", "f16", "bf16"}));
  app.add_flag("--allow-tf32", allow_tf32, "CUDA f32: let GEMMs use TF32 tensor cores (~1e-3 error)")
      ->group("Device");
  app.add_option("--threads", threads, "CPU threads (0: all cores)")->group("Device")->capture_default_str();
  if (!parse_args(app, args)) return 0;
  if (model_path.empty() == random.empty())
    throw UsageError("give exactly one of -m MODEL.bertc or --random bert-base|tiny");
  if (reps < 1) throw UsageError("--reps must be >= 1");
  const std::vector<BenchShape> shapes = parse_shapes(shapes_spec);

  BackendOptions bo;
  bo.device = resolve_device(device);
  bo.dtype = dtype == "f16" ? DType::kF16 : dtype == "bf16" ? DType::kBF16 : DType::kF32;
  bo.allow_tf32 = allow_tf32;
  bo.threads = threads;
  for (const BenchShape& s : shapes) {
    bo.max_tokens = std::max(bo.max_tokens, s.batch * s.seq);
    bo.max_seqs = std::max(bo.max_seqs, s.batch);
  }
  const WeightSource weights =
      random.empty() ? WeightSource::from_file(ModelFile::open(model_path))
                     : WeightSource::random(random == "tiny" ? bert_tiny_config() : bert_base_config(), 42);
  BertModel model(weights, make_backend(bo), bo.max_tokens);
  const BertConfig& c = model.config();

  if (format == "table")
    std::printf("%-10s %12s %10s %12s %10s %12s   (%s, %s, %s)\n", "shape", "median_ms", "seq/s",
                "tok/s", "GFLOP/s", "peak_rss_mb", model.origin().c_str(),
                model.backend().name(), dtype.c_str());
  uint64_t state = 7;
  for (const BenchShape& s : shapes) {
    if (s.seq > c.max_position_embeddings)
      throw UsageError(str_cat("--shapes: seq ", s.seq, " exceeds max_position_embeddings ",
                               c.max_position_embeddings));
    PackedBatch batch;
    for (int64_t b = 0; b < s.batch; ++b) {
      std::vector<int32_t> ids(static_cast<size_t>(s.seq));
      for (int32_t& id : ids) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;  // LCG: any ids will do
        id = static_cast<int32_t>((state >> 33) % static_cast<uint64_t>(c.vocab_size));
      }
      batch.add(ids, {});
    }
    std::vector<double> ms;
    for (int r = 0; r <= reps; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      const Tensor h = model.encode(batch, model.num_layers());
      model.pool(h, model.has_pooler() ? PoolMode::kPooled : PoolMode::kMean, false);
      model.backend().synchronize();
      const auto t1 = std::chrono::steady_clock::now();
      if (r > 0) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    const double median = ms.size() % 2 ? ms[ms.size() / 2] : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
    const double seq_s = static_cast<double>(s.batch) * 1e3 / median;
    const double tok_s = seq_s * static_cast<double>(s.seq);
    const double gflops = model.flops(batch) / (median * 1e-3) / 1e9;
    if (format == "table") {
      std::printf("%-10s %12.2f %10.1f %12.0f %10.1f %12.0f\n",
                  str_cat(s.batch, "x", s.seq).c_str(), median, seq_s, tok_s, gflops, peak_rss_mb());
    } else {
      std::printf("{\"batch\": %lld, \"seq\": %lld, \"median_ms\": %.4f, \"seq_per_s\": %.3f, "
                  "\"tok_per_s\": %.1f, \"gflops\": %.3f, \"peak_rss_mb\": %.1f}\n",
                  static_cast<long long>(s.batch), static_cast<long long>(s.seq), median, seq_s,
                  tok_s, gflops, peak_rss_mb());
    }
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace bertc
