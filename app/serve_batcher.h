// EmbedBatcher: the one thread of `bertc serve` that runs the model. Requests from any number of
// HTTP threads queue here; whenever the model is free it takes the waiting requests in arrival
// order up to a token budget (--max-batch-tokens, like TEI) and runs them together through
// Embedder::embed, which length-sorts and packs them. Batch invariance makes each request's rows
// bit-identical to running it alone (`bertc embed`). Checked in tests/app/serve_test.cc.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "app/embedder.h"

namespace bertc {

class ServeMetrics;

class EmbedBatcher {
 public:
  // `embedder` is used from the batcher's thread only, from now until stop(). Its max_tokens
  // should be max_batch_tokens, so that a budget's worth of requests is one forward pass.
  EmbedBatcher(Embedder& embedder, int64_t max_batch_tokens, ServeMetrics* metrics);
  ~EmbedBatcher();
  EmbedBatcher(const EmbedBatcher&) = delete;
  EmbedBatcher& operator=(const EmbedBatcher&) = delete;

  // Queues inputs that are already cut to their final length (pretokenized ids, or texts known
  // to fit) and returns their rows [inputs.size(), dim] for `pool`. `tokens` is their total
  // length, for the budget. The future holds the Embedder's error if the inputs fail.
  std::future<std::vector<float>> submit(std::vector<EmbedInput> inputs, int64_t tokens,
                                         const PoolChoice& pool, int64_t max_length);

  // Runs what is queued, then ends the thread; submit() after stop() throws.
  void stop();

  // While held, requests queue but none runs (stop() releases). For tests, which need requests
  // to pile up, be rejected or be in flight at a shutdown without racing the model.
  void hold(bool on);

 private:
  struct Job {
    std::vector<EmbedInput> inputs;
    int64_t tokens = 0;
    PoolChoice pool;
    int64_t max_length = 0;
    std::promise<std::vector<float>> done;
  };
  void run();
  void run_group(std::vector<Job*>& group);

  Embedder& embedder_;
  const int64_t max_batch_tokens_;
  ServeMetrics* metrics_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  bool held_ = false;
  std::thread thread_;
};

}  // namespace bertc
