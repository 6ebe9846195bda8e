// bertc serve: flags, loading the models, binding, and signals. The server itself (routes,
// batching across requests, limits, metrics) is app/serve_http.h's.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/model_path.h"
#include "app/serve_http.h"
#include "common/error.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "weights/model_file.h"

namespace bertc {
namespace {

// The name clients see ("model" in responses): the converted folder's name when the file
// records it (all-MiniLM-L6-v2), else the file's stem.
std::string model_name_of(const ModelFile& file) {
  const nlohmann::json meta = nlohmann::json::parse(file.metadata_json(), nullptr, false);
  if (meta.is_object() && meta.contains("source_path") && meta["source_path"].is_string()) {
    std::filesystem::path p(meta["source_path"].get<std::string>());
    if (p.filename().empty()) p = p.parent_path();
    if (!p.filename().empty()) return p.filename().string();
  }
  return std::filesystem::path(file.path()).stem().string();
}

}  // namespace

int run_serve(const Args& args) {
  CLI::App app{"An embedding and search server over HTTP: OpenAI /v1/embeddings, TEI's /embed, "
               "/similarity and /tokenize, /search over an index, /health, /info, /metrics",
               "bertc serve"};
  std::string model_path = default_model_path(), w2v_path, index_path, api_key, model_name;
  std::string host = "127.0.0.1";
  int port = 8080;
  bool quiet = false;
  ServeConfig config;
  ServeLimits& limits = config.limits;
  DeviceChoice device;
  app.add_option("-m,--model", model_path, "the .bertc model ($BERTC_MODEL or the installed default)")
      ->group("Model")->capture_default_str();
  app.add_option("--w2v", w2v_path, "word2vec .bertc, for an index's w2v mode")->group("Model");
  app.add_option("--index", index_path, "a search index (bertc index build) for POST /search")
      ->group("Model");
  app.add_option("--model-name", model_name,
                 "the name in responses and /info (default: the converted folder's name)")
      ->group("Model");
  app.add_option("--pool", config.pool,
                 "pooled|mean|cls|max|auto, as bertc embed (auto: the model's sentence-transformers "
                 "pooling, else mean)")
      ->group("Embedding")->capture_default_str();
  app.add_option("--max-length", config.max_length,
                 "tokens per input incl. [CLS]/[SEP] (0: the model's, as bertc embed)")
      ->group("Embedding")->capture_default_str();
  app.add_flag("--auto-truncate", config.auto_truncate,
               "cut inputs over the max length when a request does not say (else 413)")
      ->group("Embedding");
  app.add_option("--host", host, "address to listen on")->group("Server")->capture_default_str();
  app.add_option("--port", port, "port (0: any free port, printed at start)")
      ->group("Server")->capture_default_str()->check(CLI::Range(0, 65535));
  app.add_option("--api-key", api_key,
                 "require 'Authorization: Bearer KEY' on every route but /health ($BERTC_API_KEY)")
      ->group("Server")->envname("BERTC_API_KEY");
  app.add_option("--max-concurrent-requests", limits.max_concurrent_requests,
                 "requests in flight; more get 429 at once")
      ->group("Limits")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--max-batch-tokens", limits.max_batch_tokens,
                 "tokens per forward pass, packed across requests")
      ->group("Limits")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--max-client-batch-size", limits.max_client_batch_size,
                 "inputs per request; more get 413")
      ->group("Limits")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--payload-limit", limits.payload_limit_bytes,
                 "request body bytes; more get 413")
      ->group("Limits")->capture_default_str()->check(CLI::PositiveNumber);
  add_device_flags(app, device, /*with_tf32=*/true);
  app.add_flag("-q,--quiet", quiet, "no start-up and shutdown lines")->group("Output");
  if (!parse_args(app, args)) return 0;

  // SIGINT/SIGTERM go to one thread (blocked here, before any thread starts, so every thread
  // inherits the mask): the first stops the server gracefully, a second exits at once.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ServeModels models;
  models.bert_file = ModelFile::open(model_path);
  models.embedder = std::make_unique<Embedder>(models.bert_file, device.backend_options(),
                                               limits.max_batch_tokens);
  const int64_t max_length = config.max_length > 0 ? config.max_length
                                                   : models.embedder->default_max_length();
  if (limits.max_batch_tokens < max_length)
    throw UsageError(str_cat("--max-batch-tokens ", limits.max_batch_tokens,
                             " is below the max length ", max_length, ": one input must fit a batch"));
  if (!w2v_path.empty()) models.w2v = std::make_unique<WordVectors>(WordVectors::open(w2v_path));
  if (!index_path.empty()) models.index = std::make_unique<SearchIndex>(index_path);
  config.model_name = model_name.empty() ? model_name_of(*models.bert_file) : model_name;
  config.device = device.device;
  config.dtype = device.dtype;
  config.threads = device.threads;

  EmbeddingServer server(config, std::move(models), api_key);
  const int bound = server.bind(host, port);
  if (!quiet) {
    const ServeApi& api = server.api();
    std::fprintf(stderr, "bertc serve: listening on http://%s:%d (model %s, dim %lld, max length %lld, %s %s%s)\n",
                 host.c_str(), bound, config.model_name.c_str(), static_cast<long long>(api.dim()),
                 static_cast<long long>(api.max_length()), device.device.c_str(), device.dtype.c_str(),
                 api_key.empty() ? "" : ", API key required");
    std::fflush(stderr);
  }
  std::thread([&server, signals, quiet] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (!quiet) {
      std::fprintf(stderr, "bertc serve: %s: stopping; finishing %lld requests in flight (again to exit now)\n",
                   strsignal(sig), static_cast<long long>(server.metrics().in_flight.load()));
      std::fflush(stderr);
    }
    server.stop();
    sigwait(&signals, &sig);
    _exit(128 + sig);
  }).detach();
  server.run();
  if (!quiet) std::fprintf(stderr, "bertc serve: stopped\n");
  return 0;
}

}  // namespace bertc
