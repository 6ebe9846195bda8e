// What `bertc serve` exposes at GET /metrics, in the Prometheus text format (version 0.0.4):
// requests by endpoint and status, a request-latency histogram per endpoint, requests in flight,
// queue depth, forward-pass batch sizes in tokens and inputs, tokens and inputs embedded.
// Thread-safe. Checked in tests/app/serve_test.cc.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace bertc {

// A cumulative histogram with fixed upper bounds (the last bucket, +Inf, is implicit).
struct Histogram {
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);

  std::vector<double> bounds;
  std::vector<int64_t> counts;  // counts[i]: observations <= bounds[i] (not yet cumulative)
  int64_t count = 0;
  double sum = 0;
};

class ServeMetrics {
 public:
  // One answered request: endpoint is the route ("/embed") or "other" for unknown paths.
  void request_done(const std::string& endpoint, int status, double seconds);
  // One forward pass (one Embedder::embed call) over `inputs` sequences, `tokens` in all.
  void batch_done(int64_t tokens, int64_t inputs);

  std::atomic<int64_t> in_flight{0};    // inference requests admitted and not yet answered
  std::atomic<int64_t> queue_depth{0};  // requests waiting for the model
  std::atomic<int64_t> queue_tokens{0};  // their tokens

  // The exposition text, one family after another, labels sorted.
  std::string render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, int64_t> requests_;
  std::map<std::string, Histogram> latency_;
  Histogram batch_tokens_{{16, 64, 256, 1024, 2048, 4096, 8192, 16384, 32768}};
  Histogram batch_inputs_{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512}};
  int64_t tokens_ = 0, inputs_ = 0;
};

}  // namespace bertc
