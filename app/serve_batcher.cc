// Cross-request batching for `bertc serve` (see app/serve_batcher.h).
#include "app/serve_batcher.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "app/serve_metrics.h"
#include "common/error.h"

namespace bertc {

EmbedBatcher::EmbedBatcher(Embedder& embedder, int64_t max_batch_tokens, ServeMetrics* metrics)
    : embedder_(embedder), max_batch_tokens_(max_batch_tokens), metrics_(metrics) {
  thread_ = std::thread([this] { run(); });
}

EmbedBatcher::~EmbedBatcher() { stop(); }

std::future<std::vector<float>> EmbedBatcher::submit(std::vector<EmbedInput> inputs,
                                                     int64_t tokens, const PoolChoice& pool,
                                                     int64_t max_length) {
  std::future<std::vector<float>> result;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    BERTC_CHECK(!stopping_, "the server is shutting down");
    queue_.push_back(Job{std::move(inputs), tokens, pool, max_length, {}});
    result = queue_.back().done.get_future();
    if (metrics_) {
      ++metrics_->queue_depth;
      metrics_->queue_tokens += tokens;
    }
  }
  wake_.notify_one();
  return result;
}

void EmbedBatcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void EmbedBatcher::hold(bool on) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    held_ = on;
  }
  wake_.notify_one();
}

void EmbedBatcher::run() {
  for (;;) {
    // Everything waiting, in arrival order, up to the token budget (always at least one job, so
    // a request larger than the budget still runs, as several forward passes).
    std::vector<Job> taken;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || (!held_ && !queue_.empty()); });
      if (queue_.empty()) return;
      int64_t tokens = 0;
      while (!queue_.empty() &&
             (taken.empty() || tokens + queue_.front().tokens <= max_batch_tokens_)) {
        tokens += queue_.front().tokens;
        taken.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      if (metrics_) {
        metrics_->queue_depth -= static_cast<int64_t>(taken.size());
        metrics_->queue_tokens -= tokens;
      }
    }
    // One Embedder::embed call per distinct (pooling, max length): rows do not depend on what
    // else is in the batch, so requests with the same options share the forward passes.
    std::vector<bool> grouped(taken.size(), false);
    for (size_t i = 0; i < taken.size(); ++i) {
      if (grouped[i]) continue;
      std::vector<Job*> group;
      for (size_t j = i; j < taken.size(); ++j) {
        const Job& a = taken[i];
        const Job& b = taken[j];
        if (!grouped[j] && a.pool.mode == b.pool.mode && a.pool.normalize == b.pool.normalize &&
            a.max_length == b.max_length) {
          grouped[j] = true;
          group.push_back(&taken[j]);
        }
      }
      run_group(group);
    }
  }
}

void EmbedBatcher::run_group(std::vector<Job*>& group) {
  std::vector<EmbedInput> inputs;
  std::vector<size_t> counts;
  for (Job* job : group) {
    counts.push_back(job->inputs.size());
    inputs.insert(inputs.end(), std::make_move_iterator(job->inputs.begin()),
                  std::make_move_iterator(job->inputs.end()));
  }
  EmbedOptions options;
  options.pools = {group.front()->pool};
  options.max_length = group.front()->max_length;
  options.on_long = OnLong::kTruncate;
  EmbedResult result;
  try {
    result = embedder_.embed(inputs, options);
  } catch (...) {
    if (group.size() == 1) {
      group.front()->done.set_exception(std::current_exception());
      return;
    }
    // One bad request must not fail the others that happened to share its batch: give each its
    // inputs back and run it alone (submitters validate, so this is the exception).
    size_t first = 0;
    for (size_t g = 0; g < group.size(); ++g) {
      group[g]->inputs.assign(std::make_move_iterator(inputs.begin() + static_cast<std::ptrdiff_t>(first)),
                              std::make_move_iterator(inputs.begin() + static_cast<std::ptrdiff_t>(first + counts[g])));
      first += counts[g];
      std::vector<Job*> one = {group[g]};
      run_group(one);
    }
    return;
  }
  if (metrics_) metrics_->batch_done(result.tokens, result.rows);
  const auto dim = static_cast<size_t>(result.dim);
  const std::vector<float>& rows = result.matrices[0];
  size_t first = 0;
  for (size_t g = 0; g < group.size(); ++g) {
    group[g]->done.set_value(std::vector<float>(rows.begin() + static_cast<std::ptrdiff_t>(first * dim),
                                                rows.begin() + static_cast<std::ptrdiff_t>((first + counts[g]) * dim)));
    first += counts[g];
  }
}

}  // namespace bertc
