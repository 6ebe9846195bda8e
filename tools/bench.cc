// bertc bench: the whole model (embeddings, every layer, pooler) on random token ids per
// batch x seq shape (or batch x lo-hi: lengths uniform in lo..hi, a ragged batch): median
// latency, sequences/s, tokens/s, GFLOP/s (2·m·n·k over every matmul, attention included), % of
// the machine's measured fp32 FMA peak and peak RSS. Weights from a .bertc file or random in
// memory. --peer ort runs ONNX Runtime (../shared/peers/ort_bert.sh) on the same shapes in the
// same run, just before bertc, and adds its median and the ratio. --check compares each batch's
// mean-pooled vectors with each sequence run alone.
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/bert.h"
#include "common/error.h"
#include "engine/make_backend.h"
#include "kernels/cpu/cpu_plan.h"
#include "common/strings.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/fma_peak.h"
#include "weights/model_file.h"
#include "app/model_path.h"

namespace bertc {
namespace {

// batch x seq, or batch x seq_min-seq (lengths uniform in seq_min..seq: a ragged batch).
struct BenchShape {
  int64_t batch = 0, seq = 0, seq_min = 0;
  std::string name() const {
    return seq_min ? str_cat(batch, "x", seq_min, "-", seq) : str_cat(batch, "x", seq);
  }
};

std::vector<BenchShape> parse_shapes(const std::string& spec) {
  std::vector<BenchShape> out;
  for (const std::string& word : split_list(spec)) {
    char x = 0, dash = 0, extra = 0;
    long long b = 0, t = 0, hi = 0;
    const int got = std::sscanf(word.c_str(), "%lld%c%lld%c%lld%c", &b, &x, &t, &dash, &hi, &extra);
    if (got == 3 && x == 'x' && b >= 1 && t >= 1) {
      out.push_back({b, t, 0});
    } else if (got == 5 && x == 'x' && dash == '-' && b >= 1 && t >= 1 && hi >= t) {
      out.push_back({b, hi, t});
    } else {
      throw UsageError(str_cat("--shapes: '", word,
                               "' is not BATCHxSEQ or BATCHxMIN-MAX (e.g. 32x128, 32x16-128)"));
    }
  }
  return out;
}

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
}

// ONNX Runtime's median ms per (batch, seq), from the peer script's "peer=ort B=.. S=..
// median_ms=.." lines; its "#" context lines (versions, load) are echoed to stderr.
std::map<std::pair<int64_t, int64_t>, double> run_ort_peer(const std::string& peer_dir,
                                                           const std::string& shapes, int threads) {
  const std::string script = peer_dir + "/ort_bert.sh";
  BERTC_CHECK(std::filesystem::exists(script), script,
              ": not found (give the peers folder with --peer-dir; see its README for setup)");
  std::string cmd = "'" + script + "' '" + shapes + "' 2>&1";
  if (threads > 0) cmd = str_cat("THREADS=", threads, " ", cmd);
  std::fprintf(stderr, "bertc bench: running ONNX Runtime first: %s\n", script.c_str());
  FILE* pipe = popen(cmd.c_str(), "r");
  BERTC_CHECK(pipe != nullptr, script, ": cannot start it");
  std::map<std::pair<int64_t, int64_t>, double> out;
  std::string last;
  char line[1024];
  while (std::fgets(line, sizeof line, pipe)) {
    long long b = 0, s = 0;
    double ms = 0;
    const char* at = std::strstr(line, "median_ms=");
    if (std::sscanf(line, "peer=ort B=%lld S=%lld", &b, &s) == 2 && at &&
        std::sscanf(at, "median_ms=%lf", &ms) == 1) {
      out[{b, s}] = ms;
    } else if (line[0] == '#') {
      std::fprintf(stderr, "  %s", line);
    }
    last = line;
  }
  const int status = pclose(pipe);
  BERTC_CHECK(status == 0 && !out.empty(), script, ": failed (exit status ", status,
              "); its last line: ", last);
  return out;
}

// One more forward pass with every op timed (Backend profiling): one "#" line per op, slowest
// first, with its share of the profiled pass.
void print_profile(BertModel& model, const PackedBatch& batch, double median_ms) {
  Backend& be = model.backend();
  be.clear_op_times();
  be.set_profiling(true);
  const Tensor h = model.encode(batch, model.num_layers());
  model.pool(h, model.has_pooler() ? PoolMode::kPooled : PoolMode::kMean, false);
  be.set_profiling(false);
  std::vector<Backend::OpTime> times = be.op_times();
  std::sort(times.begin(), times.end(), [](const auto& a, const auto& b) { return a.seconds > b.seconds; });
  double total = 0;
  for (const auto& t : times) total += t.seconds;
  std::printf("#   profile: %.2f ms in ops (the unprofiled median: %.2f ms)\n", total * 1e3, median_ms);
  for (const auto& t : times)
    std::printf("#   %-34s %9.2f ms %6.1f%% %6lld calls\n", t.op.c_str(), t.seconds * 1e3,
                100.0 * t.seconds / total, static_cast<long long>(t.calls));
}

// The batch's mean-pooled vectors against each sequence encoded alone: one "#" line with the
// worst cosine and max abs difference; false when a cosine is below min_cosine.
bool check_alone(BertModel& model, const PackedBatch& batch, double min_cosine,
                 const std::string& name) {
  const int64_t h = model.config().hidden_size;
  std::vector<float> together, alone;
  model.to_host(model.pool(model.encode(batch, model.num_layers()), PoolMode::kMean, false), together);
  double worst_cos = 1.0, max_abs = 0.0;
  for (int64_t b = 0; b < batch.num_seqs(); ++b) {
    PackedBatch one;
    const auto first = batch.input_ids.begin() + batch.cu_seqlens[b];
    one.add(std::vector<int32_t>(first, batch.input_ids.begin() + batch.cu_seqlens[b + 1]), {});
    model.to_host(model.pool(model.encode(one, model.num_layers()), PoolMode::kMean, false), alone);
    double dot = 0, na = 0, nb = 0;
    for (int64_t c = 0; c < h; ++c) {
      const double x = together[b * h + c], y = alone[c];
      dot += x * y;
      na += x * x;
      nb += y * y;
      max_abs = std::max(max_abs, std::fabs(x - y));
    }
    worst_cos = std::min(worst_cos, na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : (na == nb ? 1.0 : 0.0));
  }
  const bool ok = worst_cos >= min_cosine;
  std::printf("#   check %s: batch vs alone over %lld sequences: min cosine %.7f (bound %.3f), "
              "max abs %.3g: %s\n", name.c_str(), static_cast<long long>(batch.num_seqs()),
              worst_cos, min_cosine, max_abs, ok ? "ok" : "FAILED");
  return ok;
}

}  // namespace

int run_bench(const Args& args) {
  CLI::App app{"Whole-model throughput on random token ids", "bertc bench"};
  std::string model_path, random, shapes_spec = "1x8,1x128,8x128,32x128,1x512", format = "table";
  std::string peer = "none", peer_dir = "../shared/peers";
  int reps = 10;
  bool profile = false, check = false;
  DeviceChoice device;
  app.add_option("-m,--model", model_path, "a .bertc model")->group("Model");
  app.add_option("--random", random, "random weights in memory: bert-base | tiny")
      ->group("Model")->check(CLI::IsMember({"bert-base", "tiny"}));
  app.add_option("--shapes", shapes_spec, "BATCHxSEQ list")->group("Run")->capture_default_str();
  app.add_option("--reps", reps, "timed runs per shape (after one warm-up)")
      ->group("Run")->capture_default_str();
  app.add_flag("--profile", profile,
               "after each shape, one more run timing every op (gemm per shape, attention, ...)")
      ->group("Run");
  app.add_flag("--check", check,
               "after each shape, compare the batch's mean-pooled vectors with each sequence run "
               "alone (exit 1 when a cosine is below 0.999, 0.99 in bf16)")
      ->group("Run");
  app.add_option("--peer", peer, "none | ort: also run ONNX Runtime on the same shapes, first")
      ->group("Run")->capture_default_str()->check(CLI::IsMember({"none", "ort"}));
  app.add_option("--peer-dir", peer_dir, "the peers folder (ort_bert.sh; set up as its README says)")
      ->group("Run")->capture_default_str();
  app.add_option("--format", format, "table | jsonl")->group("Output")->capture_default_str()
      ->check(CLI::IsMember({"table", "jsonl"}));
  add_device_flags(app, device, /*with_tf32=*/true);
  if (!parse_args(app, args)) return 0;
  if (model_path.empty() == random.empty())
    throw UsageError("give exactly one of -m MODEL.bertc or --random bert-base|tiny");
  if (reps < 1) throw UsageError("--reps must be >= 1");
  const std::vector<BenchShape> shapes = parse_shapes(shapes_spec);
  if (peer == "ort" && std::any_of(shapes.begin(), shapes.end(), [](const BenchShape& s) { return s.seq_min > 0; }))
    throw UsageError("--peer ort runs BATCHxSEQ shapes only, not ragged BATCHxMIN-MAX ones");

  BackendOptions bo = device.backend_options();
  const int threads = device.threads;
  const std::string& dtype = device.dtype;
  for (const BenchShape& s : shapes) {
    bo.max_tokens = std::max(bo.max_tokens, s.batch * s.seq);
    bo.max_seqs = std::max(bo.max_seqs, s.batch);
  }
  // Every shape is checked against the model before anything runs (no half table, then an error).
  const std::shared_ptr<const ModelFile> file = random.empty() ? open_bert_model(model_path) : nullptr;
  const BertConfig config = file ? file->bert_config()
                                 : random == "tiny" ? bert_tiny_config() : bert_base_config();
  for (const BenchShape& s : shapes)
    if (s.seq > config.max_position_embeddings)
      throw UsageError(str_cat("--shapes: seq ", s.seq, " exceeds the model's max_position_embeddings ",
                               config.max_position_embeddings));
  WeightSource weights = file ? WeightSource::from_file(file) : WeightSource::random(config, 42);
  // Moved in: the model is the weights' only holder, so copies it packs are not held twice.
  BertModel model(std::move(weights), make_backend(bo), bo.max_tokens);
  const BertConfig& c = model.config();
  const std::map<std::pair<int64_t, int64_t>, double> ort =
      peer == "ort" ? run_ort_peer(peer_dir, shapes_spec, threads)
                    : std::map<std::pair<int64_t, int64_t>, double>{};
  // The fp32 FMA peak of the threads bertc runs on (the CPU's; meaningless for a GPU run).
  const double peak = bo.device == Device::kCpu
                          ? measure_fma_peak_gflops(threads > 0 ? threads : omp_get_max_threads())
                          : 0.0;

  // The CPU and the kernels each op runs: stdout beside the table, stderr beside JSON lines.
  if (bo.device == Device::kCpu) {
    std::string lines = "# ";
    for (const char c : cpu::describe_cpu_plan()) lines += c == '\n' ? std::string("\n# ") : std::string(1, c);
    std::fprintf(format == "table" ? stdout : stderr, "%s\n", lines.c_str());
  }
  if (format == "table") {
    std::printf("%-10s %12s %10s %12s %10s %7s %12s", "shape", "median_ms", "seq/s", "tok/s",
                "GFLOP/s", "%peak", "peak_rss_mb");
    if (!ort.empty()) std::printf(" %10s %8s", "ort_ms", "vs_ort");
    std::printf("   (%s, %s, %s; fp32 FMA peak %.0f GFLOP/s)\n", model.origin().c_str(),
                model.backend().name(), dtype.c_str(), peak);
  }
  uint64_t state = 7;
  int checks_failed = 0;
  for (const BenchShape& s : shapes) {
    PackedBatch batch;
    for (int64_t b = 0; b < s.batch; ++b) {
      int64_t len = s.seq;
      if (s.seq_min) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        len = s.seq_min + static_cast<int64_t>((state >> 33) % static_cast<uint64_t>(s.seq - s.seq_min + 1));
      }
      std::vector<int32_t> ids(static_cast<size_t>(len));
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
    const double tok_s = static_cast<double>(batch.num_tokens()) * 1e3 / median;
    const double gflops = model.flops(batch) / (median * 1e-3) / 1e9;
    const double pct = peak > 0 ? 100.0 * gflops / peak : 0.0;
    const auto ort_it = ort.find({s.batch, s.seq});
    const double ort_ms = ort_it == ort.end() ? 0.0 : ort_it->second;
    if (format == "table") {
      std::printf("%-10s %12.2f %10.1f %12.0f %10.1f %7.1f %12.0f", s.name().c_str(),
                  median, seq_s, tok_s, gflops, pct, peak_rss_mb());
      if (!ort.empty()) std::printf(" %10.2f %7.2fx", ort_ms, ort_ms / median);
      std::printf("\n");
    } else {
      std::printf("{\"shape\": \"%s\", \"batch\": %lld, \"seq\": %lld, \"tokens\": %lld, "
                  "\"dtype\": \"%s\", \"device\": \"%s\", \"median_ms\": %.4f, "
                  "\"seq_per_s\": %.3f, \"tok_per_s\": %.1f, \"gflops\": %.3f, "
                  "\"pct_fma_peak\": %.2f, \"peak_rss_mb\": %.1f",
                  s.name().c_str(), static_cast<long long>(s.batch), static_cast<long long>(s.seq),
                  static_cast<long long>(batch.num_tokens()), dtype.c_str(), model.backend().name(),
                  median, seq_s, tok_s, gflops, pct, peak_rss_mb());
      if (ort_ms > 0) std::printf(", \"ort_median_ms\": %.4f, \"speedup_vs_ort\": %.4f", ort_ms, ort_ms / median);
      std::printf("}\n");
    }
    if (profile) print_profile(model, batch, median);
    if (check) checks_failed += !check_alone(model, batch, dtype == "bf16" ? 0.99 : 0.999, s.name());
    std::fflush(stdout);
  }
  BERTC_CHECK(checks_failed == 0, "bench --check: ", checks_failed,
              " shape(s) gave a sequence another embedding in the batch than alone");
  return 0;
}

}  // namespace bertc
