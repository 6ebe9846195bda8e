// EmbeddingServer: `bertc serve` as a library. HTTP/1.1 on cpp-httplib (Debian's
// libcpp-httplib-dev), the routes of app/serve_api.h, --api-key, TEI's overload answers (429 past
// --max-concurrent-requests, 413 past --payload-limit, both at once), Prometheus metrics, and a
// graceful stop: stop() closes the listener, requests in flight are answered, then run() returns.
// Checked over loopback HTTP in tests/app/serve_test.cc.
#pragma once

#include <memory>
#include <string>

#include "app/serve_api.h"
#include "app/serve_metrics.h"

namespace bertc {

class EmbedBatcher;

class EmbeddingServer {
 public:
  // Takes the loaded models; starts the batcher thread. api_key empty: no authentication.
  EmbeddingServer(ServeConfig config, ServeModels models, std::string api_key);
  ~EmbeddingServer();
  EmbeddingServer(const EmbeddingServer&) = delete;
  EmbeddingServer& operator=(const EmbeddingServer&) = delete;

  // Binds host:port (port 0: any free port) and listens; connections queue from here on.
  // Returns the port. Throws bertc::Error naming the address when it cannot bind.
  int bind(const std::string& host, int port);
  // Answers requests until stop(), then waits for the requests in flight and returns.
  void run();
  // Thread-safe, returns at once: no new connections; run() returns when the rest is answered.
  void stop();

  const ServeMetrics& metrics() const { return metrics_; }
  // EmbedBatcher::hold: requests queue and none runs (tests).
  void hold_batches(bool on);
  const ServeApi& api() const { return *api_; }

 private:
  class Http;
  ServeModels models_;
  ServeMetrics metrics_;
  std::unique_ptr<EmbedBatcher> batcher_;
  std::unique_ptr<ServeApi> api_;
  std::unique_ptr<Http> http_;
  std::string api_key_;
};

}  // namespace bertc
