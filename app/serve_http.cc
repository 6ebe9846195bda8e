// HTTP wiring of `bertc serve` (see app/serve_http.h): routes, authentication, the in-flight
// limit, JSON error bodies in OpenAI's shape under /v1/ and TEI's elsewhere, metrics per request.
#include "app/serve_http.h"

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "app/serve_batcher.h"
#include "common/error.h"
#include "common/strings.h"

namespace bertc {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Connections are served one thread each (cpp-httplib's model). The pool grows on demand up to
// `max_threads`, so that every client gets an answer -- a 429 when the server is full -- instead
// of waiting for a thread; idle threads stay for the next connection.
class GrowingPool final : public httplib::TaskQueue {
 public:
  explicit GrowingPool(size_t max_threads) : max_threads_(max_threads) {}

  void enqueue(std::function<void()> fn) override {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(fn));
    if (jobs_.size() > idle_ && threads_.size() < max_threads_)
      threads_.emplace_back([this] { work(); });
    else
      wake_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ++idle_;
        wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        --idle_;
        if (jobs_.empty()) return;  // stopping, and nothing left
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  const size_t max_threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool stopping_ = false;
};

// When the current request's headers were read (set by the pre-routing handler, read by the
// logger; cpp-httplib runs both on the connection's thread).
thread_local Clock::time_point request_start;

const char* const kRoutes[] = {"/health", "/info", "/metrics", "/v1/embeddings", "/v1/models",
                               "/embed", "/similarity", "/search", "/tokenize"};

std::string endpoint_label(const std::string& path) {
  for (const char* r : kRoutes)
    if (path == r) return r;
  return "other";
}

bool openai_route(const std::string& path) { return path.rfind("/v1/", 0) == 0; }

// OpenAI: {"error": {"message", "type", "param", "code"}}; TEI: {"error", "error_type"}.
std::string error_body(const std::string& path, int status, const std::string& message,
                       const std::string& param, const std::string& type) {
  json j;
  if (openai_route(path)) {
    j["error"] = {{"message", message},
                  {"type", status >= 500 ? "server_error" : status == 429 ? "rate_limit_error"
                                                                          : "invalid_request_error"},
                  {"param", param.empty() ? json(nullptr) : json(param)},
                  {"code", nullptr}};
  } else {
    j["error"] = message;
    j["error_type"] = type;
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool same_key(const std::string& a, const std::string& b) {
  // Constant time in the key's length, so a timing probe learns nothing of its bytes.
  unsigned diff = a.size() != b.size();
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

}  // namespace

// cpp-httplib's server with a deeper listen backlog: its compiled-in 5 would drop the SYNs of a
// burst of clients (retried only after a second) before the accept loop takes them.
class EmbeddingServer::Http : public httplib::Server {
 public:
  void deepen_backlog() { ::listen(svr_sock_, SOMAXCONN); }
  // httplib::Server::stop() does this only once the accept loop runs; a stop() that comes
  // between bind() and run() (a signal at start-up) must end run() too.
  void close_listener() {
    const int sock = svr_sock_.exchange(INVALID_SOCKET);
    if (sock == INVALID_SOCKET) return;
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
  }
};

EmbeddingServer::EmbeddingServer(ServeConfig config, ServeModels models, std::string api_key)
    : models_(std::move(models)), api_key_(std::move(api_key)) {
  const ServeLimits& limits = config.limits;
  batcher_ = std::make_unique<EmbedBatcher>(*models_.embedder, limits.max_batch_tokens, &metrics_);
  const std::string kernels =
      str_cat(models_.embedder->model().backend().name(), ", run dtype ", config.dtype);
  api_ = std::make_unique<ServeApi>(std::move(config), models_, *batcher_);
  http_ = std::make_unique<Http>();
  Http& http = *http_;
  const size_t max_threads = static_cast<size_t>(std::max<int64_t>(64, 2 * limits.max_concurrent_requests));
  http.new_task_queue = [max_threads] { return new GrowingPool(max_threads); };
  http.set_payload_max_length(static_cast<size_t>(limits.payload_limit_bytes));
  http.set_keep_alive_max_count(1000);
  http.set_tcp_nodelay(true);

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    request_start = Clock::now();
    if (api_key_.empty() || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    const std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) == 0 && same_key(auth.substr(7), api_key_))
      return httplib::Server::HandlerResponse::Unhandled;
    res.status = 401;
    res.set_content(error_body(req.path, 401, "missing or wrong API key (Authorization: Bearer KEY)",
                               "", "unauthorized"), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  });
  // Statuses cpp-httplib answers itself (404, 413 past --payload-limit, 400 for a bad request
  // line) get a JSON body too; bodies set by the handlers stay.
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string message = str_cat("HTTP status ", res.status);
    if (res.status == 413)
      message = str_cat("the request body is larger than the payload limit of ",
                        api_->config().limits.payload_limit_bytes, " bytes (--payload-limit)");
    else if (res.status == 404)
      message = str_cat("no route ", req.method, " ", req.path);
    res.set_content(error_body(req.path, res.status, message, "", "validation"), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string message = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      message = e.what();
    } catch (...) {
    }
    res.status = 500;
    res.set_content(error_body(req.path, 500, message, "", "backend"), "application/json");
  });
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const double seconds = std::chrono::duration<double>(Clock::now() - request_start).count();
    metrics_.request_done(endpoint_label(req.path), res.status, seconds);
  });

  // The inference routes: counted in flight, 429 past the limit, errors as JSON.
  auto inference = [this](std::string (ServeApi::*fn)(const std::string&) const) {
    return [this, fn](const httplib::Request& req, httplib::Response& res) {
      const int64_t in_flight = ++metrics_.in_flight;
      struct Leave {
        std::atomic<int64_t>& n;
        ~Leave() { --n; }
      } leave{metrics_.in_flight};
      const ServeLimits& lim = api_->config().limits;
      if (in_flight > lim.max_concurrent_requests) {
        res.status = 429;
        res.set_content(error_body(req.path, 429,
                                   str_cat("model is overloaded: ", lim.max_concurrent_requests,
                                           " requests in flight (--max-concurrent-requests); retry later"),
                                   "", "overloaded"), "application/json");
        return;
      }
      try {
        res.set_content(((*api_).*fn)(req.body), "application/json");
      } catch (const HttpError& e) {
        res.status = e.status;
        res.set_content(error_body(req.path, e.status, e.what(), e.param, e.type), "application/json");
      }
    };
  };
  http.Post("/v1/embeddings", inference(&ServeApi::embeddings));
  http.Post("/embed", inference(&ServeApi::embed));
  http.Post("/similarity", inference(&ServeApi::similarity));
  http.Post("/search", inference(&ServeApi::search));
  http.Post("/tokenize", inference(&ServeApi::tokenize));
  http.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"ok\"}", "application/json");
  });
  http.Get("/info", [this, kernels](const httplib::Request&, httplib::Response& res) {
    res.set_content(api_->info(kernels), "application/json");
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(), "text/plain; version=0.0.4");
  });
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    json model = {{"id", api_->config().model_name}, {"object", "model"}, {"owned_by", "bertc"}};
    res.set_content(json{{"object", "list"}, {"data", json::array({model})}}.dump(),
                    "application/json");
  });
}

EmbeddingServer::~EmbeddingServer() {
  stop();
  batcher_->stop();
}

int EmbeddingServer::bind(const std::string& host, int port) {
  int bound = port;
  if (port == 0) {
    bound = http_->bind_to_any_port(host);
    BERTC_CHECK(bound > 0, host, ": cannot bind any port");
  } else {
    BERTC_CHECK(http_->bind_to_port(host, port), host, ":", port,
                ": cannot bind (in use, or not an address of this machine)");
  }
  http_->deepen_backlog();
  return bound;
}

void EmbeddingServer::run() {
  http_->listen_after_bind();
  // Every connection thread has finished: nothing will submit again.
  batcher_->stop();
}

void EmbeddingServer::hold_batches(bool on) { batcher_->hold(on); }

void EmbeddingServer::stop() { http_->close_listener(); }

}  // namespace bertc
