// Prometheus text exposition of the server's counters (see app/serve_metrics.h).
#include "app/serve_metrics.h"

#include <algorithm>
#include <cstdio>

namespace bertc {
namespace {

const std::vector<double> kLatencyBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                            0.5,   1,    2.5,   5,    10,  30};

// Shortest-looking decimal: bucket bounds print as 0.005, sums keep 9 significant digits.
std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void render_histogram(std::string& out, const std::string& name, const std::string& labels,
                      const Histogram& h) {
  const std::string sep = labels.empty() ? "" : ",";
  int64_t cumulative = 0;
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    cumulative += h.counts[i];
    out += name + "_bucket{" + labels + sep + "le=\"" + num(h.bounds[i]) + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{" + labels + sep + "le=\"+Inf\"} " + std::to_string(h.count) + "\n";
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + braces + " " + num(h.sum) + "\n";
  out += name + "_count" + braces + " " + std::to_string(h.count) + "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> b) : bounds(std::move(b)), counts(bounds.size(), 0) {}

void Histogram::observe(double value) {
  const auto it = std::lower_bound(bounds.begin(), bounds.end(), value);
  if (it != bounds.end()) ++counts[static_cast<size_t>(it - bounds.begin())];
  ++count;
  sum += value;
}

void ServeMetrics::request_done(const std::string& endpoint, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{endpoint, status}];
  latency_.try_emplace(endpoint, kLatencyBounds).first->second.observe(seconds);
}

void ServeMetrics::batch_done(int64_t tokens, int64_t inputs) {
  std::lock_guard<std::mutex> lock(mutex_);
  batch_tokens_.observe(static_cast<double>(tokens));
  batch_inputs_.observe(static_cast<double>(inputs));
  tokens_ += tokens;
  inputs_ += inputs;
}

std::string ServeMetrics::render() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  out += "# HELP bertc_requests_total HTTP requests answered, by endpoint and status.\n"
         "# TYPE bertc_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += "bertc_requests_total{endpoint=\"" + key.first + "\",status=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  out += "# HELP bertc_request_duration_seconds Time from the request's headers to its answer.\n"
         "# TYPE bertc_request_duration_seconds histogram\n";
  for (const auto& [endpoint, h] : latency_)
    render_histogram(out, "bertc_request_duration_seconds", "endpoint=\"" + endpoint + "\"", h);
  out += "# HELP bertc_requests_in_flight Inference requests admitted and not yet answered.\n"
         "# TYPE bertc_requests_in_flight gauge\n"
         "bertc_requests_in_flight " + std::to_string(in_flight.load()) + "\n";
  out += "# HELP bertc_queue_depth Requests waiting for the model.\n"
         "# TYPE bertc_queue_depth gauge\n"
         "bertc_queue_depth " + std::to_string(queue_depth.load()) + "\n";
  out += "# HELP bertc_queue_tokens Tokens of the requests waiting for the model.\n"
         "# TYPE bertc_queue_tokens gauge\n"
         "bertc_queue_tokens " + std::to_string(queue_tokens.load()) + "\n";
  out += "# HELP bertc_batch_tokens Tokens per forward pass (packed across requests).\n"
         "# TYPE bertc_batch_tokens histogram\n";
  render_histogram(out, "bertc_batch_tokens", "", batch_tokens_);
  out += "# HELP bertc_batch_inputs Sequences per forward pass.\n"
         "# TYPE bertc_batch_inputs histogram\n";
  render_histogram(out, "bertc_batch_inputs", "", batch_inputs_);
  out += "# HELP bertc_tokens_total Tokens run through the model, specials included.\n"
         "# TYPE bertc_tokens_total counter\n"
         "bertc_tokens_total " + std::to_string(tokens_) + "\n";
  out += "# HELP bertc_inputs_total Sequences embedded.\n"
         "# TYPE bertc_inputs_total counter\n"
         "bertc_inputs_total " + std::to_string(inputs_) + "\n";
  return out;
}

}  // namespace bertc
