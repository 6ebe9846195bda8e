// bertc serve over real loopback HTTP on an ephemeral port: every endpoint's happy path and
// response schema, bit-equality with the CLI (`bertc embed`, `bertc search --index`), every error
// status, concurrent clients that each get their own rows, batching across requests, and a
// graceful stop with requests in flight. The tiny-st model keeps it fast; one thread.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "app/index.h"
#include "app/serve_http.h"
#include "app/text_modes.h"
#include "engine_test_util.h"
#include "tokenizer/tokenizer.h"

namespace bertc {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string tiny_path() {
  return testing::converted_path(testing::fixture_model_dir("tiny-st"), "tiny-st");
}

BackendOptions one_thread() {
  BackendOptions o;
  o.threads = 1;
  return o;
}

// A server on 127.0.0.1:<any port>, answering from a thread until the fixture ends.
class Served {
 public:
  explicit Served(ServeConfig config = {}, const std::string& api_key = "",
                  const std::string& index_dir = "") {
    if (config.max_length == 0) config.max_length = 32;
    config.model_name = "tiny-st";
    config.threads = 1;
    ServeModels models;
    models.bert_file = ModelFile::open(tiny_path());
    models.embedder = std::make_unique<Embedder>(models.bert_file, one_thread(),
                                                 config.limits.max_batch_tokens);
    if (!index_dir.empty()) models.index = std::make_unique<SearchIndex>(index_dir);
    server_ = std::make_unique<EmbeddingServer>(config, std::move(models), api_key);
    port_ = server_->bind("127.0.0.1", 0);
    thread_ = std::thread([this] { server_->run(); });
  }
  ~Served() {
    server_->stop();
    thread_.join();
  }
  EmbeddingServer& server() { return *server_; }
  int port() const { return port_; }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c;
  }
  // POST `body` to `path`; {status, body}. Status -1: no answer (connection refused, ...).
  std::pair<int, std::string> post(const std::string& path, const std::string& body,
                                   const httplib::Headers& headers = {}) const {
    httplib::Client c = client();
    auto r = c.Post(path.c_str(), headers, body, "application/json");
    if (!r) return {-1, httplib::to_string(r.error())};
    return {r->status, r->body};
  }
  std::pair<int, std::string> get(const std::string& path, const httplib::Headers& headers = {}) const {
    httplib::Client c = client();
    auto r = c.Get(path.c_str(), headers);
    if (!r) return {-1, httplib::to_string(r.error())};
    return {r->status, r->body};
  }
  // Waits (bounded) until `pred` holds of the server's metrics: a readiness check, not a sleep.
  template <typename Pred>
  bool wait_for(Pred pred) {
    for (int i = 0; i < 20000; ++i) {
      if (pred(server_->metrics())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }

 private:
  std::unique_ptr<EmbeddingServer> server_;
  std::thread thread_;
  int port_ = 0;
};

std::vector<float> floats(const json& row) {
  std::vector<float> v;
  for (const json& x : row) v.push_back(x.get<float>());
  return v;
}

// `bertc embed` on the same model and texts: one row per text, as JSON lines.
std::vector<std::vector<float>> cli_embed(const std::vector<std::string>& texts, const std::string& flags) {
  std::string in;
  for (const std::string& t : texts) in += t + "\n";
  const auto r = testing::run_bertc("embed -m '" + tiny_path() + "' --threads 1 --max-length 32 -q -i - " + flags, in);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::vector<float>> rows;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    const json j = json::parse(line);
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.key() != "index") rows.push_back(floats(it.value()));
  }
  return rows;
}

const std::vector<std::string> kTexts = {"A man is eating food.", "The bank of the river.",
                                         "a much longer sentence about banks, money and rivers",
                                         "short"};

TEST(Serve, HealthInfoMetricsModels) {
  Served s;
  auto [hs, hb] = s.get("/health");
  EXPECT_EQ(hs, 200);
  EXPECT_EQ(json::parse(hb)["status"], "ok");
  auto [is, ib] = s.get("/info");
  ASSERT_EQ(is, 200) << ib;
  const json info = json::parse(ib);
  EXPECT_EQ(info["model_id"], "tiny-st");
  EXPECT_EQ(info["dim"], 128);
  EXPECT_EQ(info["max_input_length"], 32);
  EXPECT_EQ(info["pooling"], "mean");
  EXPECT_EQ(info["device"], "cpu");
  EXPECT_EQ(info["max_batch_tokens"], 16384);
  EXPECT_EQ(info["max_client_batch_size"], 32);
  EXPECT_TRUE(info["kernels"].is_string());
  auto [ms, mb] = s.get("/v1/models");
  EXPECT_EQ(ms, 200);
  EXPECT_EQ(json::parse(mb)["data"][0]["id"], "tiny-st");
  s.post("/embed", R"({"inputs": "hello"})");
  auto [ps, pb] = s.get("/metrics");
  ASSERT_EQ(ps, 200);
  for (const char* family : {"bertc_requests_total{endpoint=\"/embed\",status=\"200\"} 1",
                             "bertc_requests_total{endpoint=\"/health\",status=\"200\"} 1",
                             "bertc_request_duration_seconds_bucket{endpoint=\"/embed\",le=\"+Inf\"} 1",
                             "bertc_queue_depth 0", "bertc_requests_in_flight 0",
                             "bertc_batch_tokens_count 1", "bertc_tokens_total 3",
                             "# TYPE bertc_request_duration_seconds histogram"})
    EXPECT_NE(pb.find(family), std::string::npos) << family << "\n" << pb;
}

TEST(Serve, OpenAiEmbeddingsMatchTheCli) {
  Served s;
  json req = {{"input", kTexts}, {"model", "anything"}};
  auto [st, body] = s.post("/v1/embeddings", req.dump());
  ASSERT_EQ(st, 200) << body;
  const json r = json::parse(body);
  EXPECT_EQ(r["object"], "list");
  EXPECT_EQ(r["model"], "tiny-st");
  ASSERT_EQ(r["data"].size(), kTexts.size());
  // OpenAI's embeddings are unit vectors: `bertc embed --normalize` on the same texts.
  const auto cli = cli_embed(kTexts, "--pool mean --normalize");
  ASSERT_EQ(cli.size(), kTexts.size());
  int64_t tokens = 0;
  const Tokenizer tok = Tokenizer::from_model(*ModelFile::open(tiny_path()));
  for (size_t i = 0; i < kTexts.size(); ++i) {
    EXPECT_EQ(r["data"][i]["object"], "embedding");
    EXPECT_EQ(r["data"][i]["index"], i);
    EXPECT_EQ(floats(r["data"][i]["embedding"]), cli[i]) << "input " << i;
    tokens += static_cast<int64_t>(tok.encode(kTexts[i], 32).ids.size());
  }
  EXPECT_EQ(r["usage"]["prompt_tokens"], tokens);
  EXPECT_EQ(r["usage"]["total_tokens"], tokens);

  // base64: the same float32 bytes, little-endian.
  req["encoding_format"] = "base64";
  auto [bst, bbody] = s.post("/v1/embeddings", req.dump());
  ASSERT_EQ(bst, 200) << bbody;
  const std::string b64 = json::parse(bbody)["data"][1]["embedding"];
  std::string bytes;
  int val = 0, bits = -8;
  for (char c : b64) {
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (c == '=') break;
    val = (val << 6) + static_cast<int>(std::strchr(alphabet, c) - alphabet);
    bits += 6;
    if (bits >= 0) {
      bytes.push_back(static_cast<char>((val >> bits) & 0xff));
      bits -= 8;
    }
  }
  ASSERT_EQ(bytes.size(), 128 * sizeof(float));
  std::vector<float> decoded(128);
  std::memcpy(decoded.data(), bytes.data(), bytes.size());
  EXPECT_EQ(decoded, cli[1]);

  // One string; token ids (one list, and a list of lists) run as given, as {"input_ids"} lines.
  auto [s1, b1] = s.post("/v1/embeddings", json{{"input", kTexts[0]}}.dump());
  ASSERT_EQ(s1, 200) << b1;
  EXPECT_EQ(floats(json::parse(b1)["data"][0]["embedding"]), cli[0]);
  const std::vector<int32_t> ids = tok.encode(kTexts[0], 32).ids;
  auto [s2, b2] = s.post("/v1/embeddings", json{{"input", ids}}.dump());
  ASSERT_EQ(s2, 200) << b2;
  EXPECT_EQ(floats(json::parse(b2)["data"][0]["embedding"]), cli[0]);
  auto [s3, b3] = s.post("/v1/embeddings", json{{"input", {ids, ids}}}.dump());
  ASSERT_EQ(s3, 200) << b3;
  EXPECT_EQ(json::parse(b3)["data"].size(), 2u);
  EXPECT_EQ(floats(json::parse(b3)["data"][1]["embedding"]), cli[0]);

  // dimensions: the model's own is accepted; another is a 400 that says why.
  EXPECT_EQ(s.post("/v1/embeddings", json{{"input", "x"}, {"dimensions", 128}}.dump()).first, 200);
  auto [ds, db] = s.post("/v1/embeddings", json{{"input", "x"}, {"dimensions", 64}}.dump());
  EXPECT_EQ(ds, 400);
  const json err = json::parse(db)["error"];
  EXPECT_EQ(err["param"], "dimensions");
  EXPECT_NE(err["message"].get<std::string>().find("Matryoshka"), std::string::npos) << db;
}

TEST(Serve, TeiEmbedSimilarityTokenize) {
  Served s;
  // normalize=false: the model's pooling as `bertc embed --pool mean` gives it; true: --normalize.
  auto [st, body] = s.post("/embed", json{{"inputs", kTexts}, {"normalize", false}}.dump());
  ASSERT_EQ(st, 200) << body;
  const json rows = json::parse(body);
  ASSERT_EQ(rows.size(), kTexts.size());
  const auto plain = cli_embed(kTexts, "--pool mean");
  for (size_t i = 0; i < kTexts.size(); ++i) EXPECT_EQ(floats(rows[i]), plain[i]) << i;
  auto [nst, nbody] = s.post("/embed", json{{"inputs", kTexts[2]}}.dump());
  ASSERT_EQ(nst, 200);
  EXPECT_EQ(floats(json::parse(nbody)[0]), cli_embed({kTexts[2]}, "--pool mean --normalize")[0]);

  // Similarity: cosines of the source with each sentence, as cosine_matrix gives them.
  json sim = {{"inputs", {{"source_sentence", kTexts[0]}, {"sentences", {kTexts[0], kTexts[1], kTexts[3]}}}}};
  auto [ss, sb] = s.post("/similarity", sim.dump());
  ASSERT_EQ(ss, 200) << sb;
  const json scores = json::parse(sb);
  ASSERT_EQ(scores.size(), 3u);
  EXPECT_NEAR(scores[0].get<float>(), 1.0f, 1e-6);
  const std::vector<float> want = cosine_matrix(plain[0].data(), 1, plain[1].data(), 1, 128);
  EXPECT_EQ(scores[1].get<float>(), want[0]);

  // Tokenize: ids as the tokenizer gives them, [CLS]/[SEP] marked special.
  auto [ts, tb] = s.post("/tokenize", json{{"inputs", {"Hello world", "bank"}}}.dump());
  ASSERT_EQ(ts, 200) << tb;
  const json toks = json::parse(tb);
  ASSERT_EQ(toks.size(), 2u);
  const Tokenizer tok = Tokenizer::from_model(*ModelFile::open(tiny_path()));
  const std::vector<int32_t> ids = tok.encode("Hello world", 0).ids;
  ASSERT_EQ(toks[0].size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(toks[0][i]["id"], ids[i]);
  EXPECT_EQ(toks[0][0]["text"], "[CLS]");
  EXPECT_EQ(toks[0][0]["special"], true);
  EXPECT_EQ(toks[0][1]["text"], "hello");
  EXPECT_EQ(toks[0][1]["special"], false);
  auto [ns, nb] = s.post("/tokenize", json{{"inputs", "bank"}, {"add_special_tokens", false}}.dump());
  ASSERT_EQ(ns, 200);
  EXPECT_EQ(json::parse(nb)[0].size(), 1u);
}

TEST(Serve, SearchMatchesTheCliOverTheSameIndex) {
  const fs::path dir = testing::scratch_dir() / "serve_index";
  fs::remove_all(dir);
  const fs::path corpus = testing::scratch_dir() / "serve_corpus.txt";
  std::ofstream(corpus) << "the river bank was muddy\nshe deposited money at the bank\n"
                           "a fish swam in the river\ninterest rates went up\nwe sat on the grass\n";
  {
    ModeOptions mo;
    mo.model_path = tiny_path();
    mo.modes = "mean,cls";
    mo.device.threads = 1;
    mo.quiet = true;
    IndexBuildOptions bo;
    bo.corpus_path = corpus.string();
    bo.out_dir = dir.string();
    bo.quiet = true;
    build_index(bo, TextModes(mo));
  }
  Served s({}, "", dir.string());
  auto [st, body] = s.post("/search", json{{"queries", {"money in a bank", "river fish"}}, {"k", 3}}.dump());
  ASSERT_EQ(st, 200) << body;
  const json r = json::parse(body)["results"];
  ASSERT_EQ(r.size(), 2u);
  const auto cli = testing::run_bertc("search -m '" + tiny_path() + "' --threads 1 --index '" +
                                      dir.string() + "' -k 3 --format jsonl -q 'money in a bank' 'river fish'");
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  std::istringstream lines(cli.out);
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    const json c = json::parse(line);
    const size_t q = c["query"] == "money in a bank" ? 0 : 1;
    const json& hit = r[q]["modes"][c["mode"].get<std::string>()][c["rank"].get<int>() - 1];
    EXPECT_EQ(r[q]["query"], c["query"]);
    EXPECT_EQ(hit["index"], c["index"]) << line;
    EXPECT_EQ(hit["score"].get<float>(), c["score"].get<float>()) << line;
    EXPECT_EQ(hit["text"], c["text"]);
  }
  EXPECT_EQ(n, 2 * 2 * 3);  // queries x modes x k
  auto [ms, mb] = s.post("/search", json{{"query", "bank"}, {"modes", {"cls"}}}.dump());
  ASSERT_EQ(ms, 200) << mb;
  const json one = json::parse(mb)["results"][0]["modes"];
  EXPECT_EQ(one.size(), 1u);
  EXPECT_EQ(one["cls"].size(), 5u);
  EXPECT_EQ(s.post("/search", json{{"query", "bank"}, {"modes", {"w2v"}}}.dump()).first, 422);

  Served none;
  EXPECT_EQ(none.post("/search", json{{"query", "bank"}}.dump()).first, 404);
}

TEST(Serve, ErrorsNameTheFieldAndStatus) {
  ServeConfig config;
  config.limits.max_client_batch_size = 4;
  config.limits.payload_limit_bytes = 1000;
  Served s(config);
  auto expect = [&](const std::string& path, const std::string& body, int status, const std::string& says) {
    auto [st, b] = s.post(path, body);
    EXPECT_EQ(st, status) << path << " " << body << " -> " << b;
    const json j = json::parse(b, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON: " << b;
    const std::string message = path.rfind("/v1/", 0) == 0 ? j["error"]["message"] : j["error"];
    EXPECT_NE(message.find(says), std::string::npos) << message;
  };
  expect("/embed", "{not json", 400, "not valid JSON");
  expect("/embed", "[1, 2]", 422, "JSON object");
  expect("/embed", "{}", 422, "missing field \"inputs\"");
  expect("/embed", R"({"inputs": 5})", 422, "\"inputs\" must be");
  expect("/embed", R"({"inputs": []})", 422, "empty");
  expect("/embed", R"({"inputs": ["a", 5]})", 422, "inputs[1]");
  expect("/embed", R"({"inputs": "a", "normalize": "yes"})", 422, "\"normalize\"");
  expect("/embed", R"({"inputs": [[101, 999999, 102]]})", 422, "token id 999999");
  expect("/v1/embeddings", R"({"input": "a", "encoding_format": "hex"})", 422, "encoding_format");
  expect("/v1/embeddings", R"({"input": "a", "model": 3})", 422, "\"model\"");
  expect("/embed", R"({"inputs": ["a", "b", "c", "d", "e"]})", 413, "batch size 5");
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "word ";
  const std::string tokens = std::to_string(
      Tokenizer::from_model(*ModelFile::open(tiny_path())).encode(long_text, 0).ids.size());
  expect("/embed", json{{"inputs", {"short", long_text}}}.dump(), 413,
         "inputs[1] has " + tokens + " tokens, more than the maximum input length of 32");
  expect("/v1/embeddings", json{{"input", {long_text}}}.dump(), 413, "input[0] has " + tokens + " tokens");
  EXPECT_EQ(s.post("/embed", json{{"inputs", {long_text}}, {"truncate", true}}.dump()).first, 200);
  expect("/embed", json{{"inputs", std::string(2000, 'a')}}.dump(), 413, "payload limit of 1000");
  auto [ns, nb] = s.get("/nowhere");
  EXPECT_EQ(ns, 404);
  EXPECT_NE(nb.find("no route GET /nowhere"), std::string::npos) << nb;
  // OpenAI's error shape under /v1/.
  auto [os, ob] = s.post("/v1/embeddings", "{}");
  EXPECT_EQ(os, 422);
  EXPECT_EQ(json::parse(ob)["error"]["param"], "input");
  EXPECT_EQ(json::parse(ob)["error"]["type"], "invalid_request_error");
  // The server is still whole after all that.
  EXPECT_EQ(s.post("/embed", R"({"inputs": "fine"})").first, 200);
}

TEST(Serve, ApiKeyOnEveryRouteButHealth) {
  Served s({}, "s3cret");
  EXPECT_EQ(s.get("/health").first, 200);
  EXPECT_EQ(s.get("/info").first, 401);
  EXPECT_EQ(s.get("/metrics").first, 401);
  auto [st, body] = s.post("/v1/embeddings", R"({"input": "a"})");
  EXPECT_EQ(st, 401);
  EXPECT_TRUE(json::parse(body)["error"].contains("message"));
  EXPECT_EQ(s.post("/embed", R"({"inputs": "a"})", {{"Authorization", "Bearer wrong"}}).first, 401);
  EXPECT_EQ(s.post("/embed", R"({"inputs": "a"})", {{"Authorization", "Bearer s3cret"}}).first, 200);
  EXPECT_EQ(s.get("/info", {{"Authorization", "Bearer s3cret"}}).first, 200);
}

TEST(Serve, ConcurrentClientsGetTheirOwnRowsAndShareBatches) {
  Served s;
  // Each text alone first: the rows every later answer must reproduce bit for bit.
  std::vector<std::string> texts;
  for (int i = 0; i < 24; ++i) texts.push_back("sentence number " + std::to_string(i) + std::string(i % 5, '!'));
  std::vector<json> alone;
  for (const std::string& t : texts) {
    auto [st, body] = s.post("/embed", json{{"inputs", t}}.dump());
    ASSERT_EQ(st, 200) << body;
    alone.push_back(json::parse(body)[0]);
  }
  // Held, eight clients queue three texts each; released, they run as one batch.
  s.server().hold_batches(true);
  std::vector<std::future<std::pair<int, std::string>>> answers;
  for (int c = 0; c < 8; ++c)
    answers.push_back(std::async(std::launch::async, [&, c] {
      return s.post("/embed", json{{"inputs", {texts[c], texts[c + 8], texts[c + 16]}}}.dump());
    }));
  ASSERT_TRUE(s.wait_for([](const ServeMetrics& m) { return m.queue_depth.load() == 8; }));
  s.server().hold_batches(false);
  for (int c = 0; c < 8; ++c) {
    auto [st, body] = answers[c].get();
    ASSERT_EQ(st, 200) << body;
    const json rows = json::parse(body);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0], alone[c]) << "client " << c;
    EXPECT_EQ(rows[1], alone[c + 8]) << "client " << c;
    EXPECT_EQ(rows[2], alone[c + 16]) << "client " << c;
  }
  const std::string metrics = s.get("/metrics").second;
  // 24 single-text batches, then one of 24 sequences from 8 requests.
  EXPECT_NE(metrics.find("bertc_batch_inputs_count 25"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("bertc_batch_inputs_sum 48"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("bertc_batch_inputs_bucket{le=\"32\"} 25"), std::string::npos);
  EXPECT_NE(metrics.find("bertc_batch_inputs_bucket{le=\"16\"} 24"), std::string::npos);

  // Free-running clients too (no hold): mixed sizes, every answer its own.
  std::vector<std::future<bool>> free;
  for (int c = 0; c < 6; ++c)
    free.push_back(std::async(std::launch::async, [&, c] {
      for (int k = 0; k < 5; ++k) {
        const int a = (c * 5 + k) % 24, b = (c * 7 + k * 3) % 24;
        auto [st, body] = s.post("/embed", json{{"inputs", {texts[a], texts[b]}}}.dump());
        if (st != 200) return false;
        const json rows = json::parse(body);
        if (rows[0] != alone[a] || rows[1] != alone[b]) return false;
      }
      return true;
    }));
  for (auto& f : free) EXPECT_TRUE(f.get());
}

TEST(Serve, OverloadIsAnImmediate429) {
  ServeConfig config;
  config.limits.max_concurrent_requests = 2;
  Served s(config);
  s.server().hold_batches(true);
  auto a = std::async(std::launch::async, [&] { return s.post("/embed", R"({"inputs": "one"})"); });
  auto b = std::async(std::launch::async, [&] { return s.post("/embed", R"({"inputs": "two"})"); });
  ASSERT_TRUE(s.wait_for([](const ServeMetrics& m) { return m.queue_depth.load() == 2; }));
  // Full: the third gets its 429 while the two wait, with TEI's error_type.
  auto [st, body] = s.post("/embed", R"({"inputs": "three"})");
  EXPECT_EQ(st, 429);
  EXPECT_EQ(json::parse(body)["error_type"], "overloaded");
  EXPECT_EQ(s.post("/v1/embeddings", R"({"input": "three"})").first, 429);
  EXPECT_EQ(s.get("/health").first, 200);  // not an inference route: never limited
  s.server().hold_batches(false);
  EXPECT_EQ(a.get().first, 200);
  EXPECT_EQ(b.get().first, 200);
  EXPECT_EQ(s.post("/embed", R"({"inputs": "three"})").first, 200);
}

TEST(Serve, StopFinishesRequestsInFlight) {
  auto s = std::make_unique<Served>();
  s->server().hold_batches(true);
  std::vector<std::future<std::pair<int, std::string>>> waiting;
  for (int i = 0; i < 3; ++i)
    waiting.push_back(std::async(std::launch::async, [&, i] {
      return s->post("/embed", json{{"inputs", kTexts[i]}}.dump());
    }));
  ASSERT_TRUE(s->wait_for([](const ServeMetrics& m) { return m.queue_depth.load() == 3; }));
  s->server().stop();
  // No new connections once stopped...
  EXPECT_EQ(s->get("/health").first, -1);
  // ...but the three in flight are answered.
  s->server().hold_batches(false);
  for (auto& w : waiting) {
    auto [st, body] = w.get();
    EXPECT_EQ(st, 200) << body;
    EXPECT_EQ(json::parse(body)[0].size(), 128u);
  }
  s.reset();  // joins run()
}

}  // namespace
}  // namespace bertc
