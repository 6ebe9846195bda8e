// The endpoints of `bertc serve` as functions from a request body to a response body, apart from
// HTTP (app/serve_http.h wires them): OpenAI's /v1/embeddings, TEI's /embed, /similarity and
// /tokenize, /search over a loaded index, and /info. Embeddings go through the EmbedBatcher;
// the poolings, truncation and search are the CLI's own code (Embedder, Tokenizer::encode,
// top_k, sentence_vector). Checked through HTTP in tests/app/serve_test.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/embedder.h"
#include "app/index.h"
#include "app/word_vectors.h"

namespace bertc {

class EmbedBatcher;

// A request the server answers with an error: the HTTP status, the message, the request field it
// concerns (may be empty) and a TEI error_type ("validation", "overloaded", ...).
struct HttpError : std::runtime_error {
  HttpError(int status, const std::string& message, std::string param = "",
            std::string type = "validation")
      : std::runtime_error(message), status(status), param(std::move(param)), type(std::move(type)) {}
  int status;
  std::string param;
  std::string type;
};

// TEI's flags and defaults (text-embeddings-router --help).
struct ServeLimits {
  int64_t max_concurrent_requests = 512;  // more in flight: 429
  int64_t max_client_batch_size = 32;     // more inputs in one request: 413
  int64_t payload_limit_bytes = 2000000;  // a larger body: 413
  int64_t max_batch_tokens = 16384;       // tokens per forward pass, across requests
};

// What is loaded, opened by tools/serve.cc.
struct ServeModels {
  std::shared_ptr<const ModelFile> bert_file;
  std::unique_ptr<Embedder> embedder;     // its max_tokens: limits.max_batch_tokens
  std::unique_ptr<WordVectors> w2v;       // --w2v: the index's w2v mode
  std::unique_ptr<SearchIndex> index;     // --index: POST /search
};

struct ServeConfig {
  std::string model_name;    // "model" in responses and GET /info
  std::string pool = "auto";  // --pool: one of pooled|mean|cls|max|auto (as bertc embed)
  int64_t max_length = 0;    // --max-length; 0: the model's (as bertc embed)
  bool auto_truncate = false;  // cut over-long inputs instead of a 413 when a request doesn't say
  std::string device = "cpu", dtype = "f32";
  int threads = 0;           // the search scans' threads (0: all cores)
  ServeLimits limits;
};

class ServeApi {
 public:
  // Checks that every index mode can be served by the loaded models (the same model
  // fingerprints as `bertc search --index` requires); throws naming the index and the mode.
  ServeApi(ServeConfig config, ServeModels& models, EmbedBatcher& batcher);

  // Each takes the request body and returns the JSON response body, or throws HttpError.
  std::string embeddings(const std::string& body) const;  // POST /v1/embeddings (OpenAI)
  std::string embed(const std::string& body) const;       // POST /embed (TEI)
  std::string similarity(const std::string& body) const;  // POST /similarity (TEI)
  std::string search(const std::string& body) const;      // POST /search
  std::string tokenize(const std::string& body) const;    // POST /tokenize (TEI)
  std::string info(const std::string& kernels) const;     // GET /info

  const ServeConfig& config() const { return config_; }
  int64_t max_length() const { return max_length_; }
  int64_t dim() const { return dim_; }

 private:
  struct Prepared;
  Prepared prepare(const std::vector<EmbedInput>& raw, bool truncate, const char* field) const;
  std::vector<float> run(const Prepared& p, const PoolChoice& pool) const;

  ServeConfig config_;
  ServeModels& models_;
  EmbedBatcher& batcher_;
  PoolChoice pool_;  // --pool resolved against the model
  int64_t max_length_ = 0, dim_ = 0, vocab_size_ = 0, type_vocab_size_ = 0;
  std::vector<std::string> search_modes_;  // the index's modes, in its order
  std::vector<CorpusView> search_views_;
};

}  // namespace bertc
