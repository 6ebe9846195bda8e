// bertc_serve_load: a closed-loop HTTP load generator for `bertc serve` (or any server with
// TEI's /embed or OpenAI's /v1/embeddings). N clients, each on its own keep-alive connection,
// send requests of 1..8 sentences drawn from a corpus, for a fixed time. Reports requests/s,
// sentences/s, latency percentiles (successes and 429s apart), every status and transport error,
// and checks that each 200 carries one embedding per sentence sent (nothing lost). bench/serve_load.sh
// runs it against bertc serve at 1, 8, 64 and 256 clients.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 8080;
  int clients = 1;
  double seconds = 10;
  int min_sentences = 1, max_sentences = 8;
  std::string endpoint = "/embed";
  std::string corpus;
  std::string label;
  double timeout_s = 30;
  int64_t dump = 0;  // > 0: print this many sentences, drawn as the clients draw them, and exit
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "bertc_serve_load: %s\n"
               "usage: bertc_serve_load --corpus FILE [--host H] [--port P] [--clients N]\n"
               "       [--seconds S] [--min 1] [--max 8] [--endpoint /embed|/v1/embeddings]\n"
               "       [--timeout S] [--label TEXT] [--dump N]\n"
               "Prints one JSON line of results on stdout; --dump N prints N sentences drawn\n"
               "as the clients draw them (the offline run's input) and exits.\n", why);
  std::exit(2);
}

// Sentence-like lines of the corpus: trimmed, at least 4 words.
std::vector<std::string> read_sentences(const std::string& path) {
  std::ifstream in(path);
  if (!in) usage(("cannot open " + path).c_str());
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    const size_t a = line.find_first_not_of(" \t*-");
    if (a == std::string::npos) continue;
    const size_t b = line.find_last_not_of(" \t\r");
    line = line.substr(a, b - a + 1);
    if (std::count(line.begin(), line.end(), ' ') >= 3) out.push_back(line);
  }
  if (out.empty()) usage("the corpus has no line of 4 words or more");
  return out;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())));
  return v[i];
}

size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

struct ClientStats {
  std::vector<double> ok_ms, rejected_ms;
  std::map<std::string, int64_t> outcomes;  // "200", "429", "error:Read", "lost" ...
  int64_t sentences = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--host") o.host = next();
    else if (a == "--port") o.port = std::stoi(next());
    else if (a == "--clients") o.clients = std::stoi(next());
    else if (a == "--seconds") o.seconds = std::stod(next());
    else if (a == "--min") o.min_sentences = std::stoi(next());
    else if (a == "--max") o.max_sentences = std::stoi(next());
    else if (a == "--endpoint") o.endpoint = next();
    else if (a == "--corpus") o.corpus = next();
    else if (a == "--timeout") o.timeout_s = std::stod(next());
    else if (a == "--label") o.label = next();
    else if (a == "--dump") o.dump = std::stoll(next());
    else usage(("unknown option " + a).c_str());
  }
  if (o.corpus.empty()) usage("--corpus is required");
  if (o.clients < 1 || o.min_sentences < 1 || o.max_sentences < o.min_sentences) usage("bad counts");
  const bool openai = o.endpoint == "/v1/embeddings";
  const std::vector<std::string> sentences = read_sentences(o.corpus);
  if (o.dump > 0) {
    std::mt19937_64 rng(1);
    std::uniform_int_distribution<size_t> pick(0, sentences.size() - 1);
    for (int64_t i = 0; i < o.dump; ++i) std::printf("%s\n", sentences[pick(rng)].c_str());
    return 0;
  }

  std::vector<ClientStats> stats(static_cast<size_t>(o.clients));
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<std::thread> threads;
  for (int c = 0; c < o.clients; ++c) {
    threads.emplace_back([&, c] {
      ClientStats& s = stats[static_cast<size_t>(c)];
      std::mt19937_64 rng(static_cast<uint64_t>(c) * 7919 + 1);
      std::uniform_int_distribution<int> count(o.min_sentences, o.max_sentences);
      std::uniform_int_distribution<size_t> pick(0, sentences.size() - 1);
      httplib::Client client(o.host, o.port);
      client.set_keep_alive(true);
      const auto to = std::chrono::duration<double>(o.timeout_s);
      client.set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(to));
      client.set_connection_timeout(std::chrono::duration_cast<std::chrono::microseconds>(to));
      while (Clock::now() < deadline) {
        const int n = count(rng);
        nlohmann::json texts = nlohmann::json::array();
        for (int k = 0; k < n; ++k) texts.push_back(sentences[pick(rng)]);
        const std::string body = nlohmann::json{{openai ? "input" : "inputs", texts}}.dump();
        const auto t0 = Clock::now();
        auto r = client.Post(o.endpoint.c_str(), body, "application/json");
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (!r) {
          ++s.outcomes["error:" + httplib::to_string(r.error())];
          continue;
        }
        if (r->status == 200) {
          // Nothing lost: one embedding per sentence sent. Counted without parsing the floats,
          // so the generator takes less of the CPU it shares with the server.
          const size_t rows = openai ? count_of(r->body, "\"object\":\"embedding\"")
                                     : count_of(r->body, "[") - 1;
          if (rows != static_cast<size_t>(n)) {
            ++s.outcomes["lost"];
            continue;
          }
          s.ok_ms.push_back(ms);
          s.sentences += n;
        } else if (r->status == 429) {
          s.rejected_ms.push_back(ms);
        }
        ++s.outcomes[std::to_string(r->status)];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  ClientStats all;
  for (ClientStats& s : stats) {
    all.ok_ms.insert(all.ok_ms.end(), s.ok_ms.begin(), s.ok_ms.end());
    all.rejected_ms.insert(all.rejected_ms.end(), s.rejected_ms.begin(), s.rejected_ms.end());
    for (const auto& [k, v] : s.outcomes) all.outcomes[k] += v;
    all.sentences += s.sentences;
  }
  int64_t requests = 0;
  for (const auto& [k, v] : all.outcomes) requests += v;
  nlohmann::ordered_json out;
  if (!o.label.empty()) out["label"] = o.label;
  out["endpoint"] = o.endpoint;
  out["clients"] = o.clients;
  out["seconds"] = elapsed;
  out["requests"] = requests;
  out["ok"] = all.ok_ms.size();
  out["req_per_s"] = static_cast<double>(all.ok_ms.size()) / elapsed;
  out["sentences_per_s"] = static_cast<double>(all.sentences) / elapsed;
  out["p50_ms"] = percentile(all.ok_ms, 50);
  out["p95_ms"] = percentile(all.ok_ms, 95);
  out["p99_ms"] = percentile(all.ok_ms, 99);
  out["rejected_429"] = all.rejected_ms.size();
  out["p99_429_ms"] = percentile(all.rejected_ms, 99);
  out["max_429_ms"] = all.rejected_ms.empty() ? 0.0 : *std::max_element(all.rejected_ms.begin(), all.rejected_ms.end());
  out["outcomes"] = all.outcomes;
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
