// Embedder: texts -> one embeddings matrix per pooling mode, in input order, whatever the internal
// batching (length-sorted, token-budget packed batches). Used by `bertc embed` and by the BERT
// modes of `bertc similarity/search/index`. Checked in tests/app/embedder_test.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/bert.h"
#include "weights/model_file.h"

namespace bertc {

class Tokenizer;

// One input: a text, a pair (text, text_b), or ids already tokenized (specials included).
struct EmbedInput {
  std::string text;
  std::string text_b;
  bool is_pair = false;
  std::vector<int32_t> input_ids;       // used when pretokenized
  std::vector<int32_t> token_type_ids;  // empty: all zero
  bool pretokenized = false;
  int64_t line = 0;  // 1-based source line for messages; 0: the input's position (index + 1)
};

// What to do with an input longer than the max length.
enum class OnLong { kTruncate, kError, kWindow };

// One requested output: a pooling mode, whether rows are L2-normalised, and its name as written
// in outputs ("mean", "cls", "pooled", "max").
struct PoolChoice {
  PoolMode mode = PoolMode::kMean;
  bool normalize = false;
  std::string name;
};

// Parses "--pool" words separated by commas (pooled|mean|cls|max|auto). `auto` uses the model's
// sentence-transformers pooling config (mode + normalize) and otherwise means mean.
// `normalize` (--normalize) forces L2 normalisation on every choice. Throws UsageError for an
// empty list, an unknown word, and `pooled` on a model without pooler weights.
std::vector<PoolChoice> parse_pool_choices(const std::string& spec, bool normalize,
                                           const ModelFile& model);
// The max length used when none is given: the sentence-transformers max_seq_length when the file
// has one, else min(tokenizer model_max_length, max_position_embeddings).
int64_t default_max_length(const ModelFile& model);
const char* pool_mode_name(PoolMode mode);
// The sentence-transformers pooling mode as a PoolMode; throws for modes bertc does not run.
PoolMode pool_mode_from_config(const PoolingConfig& pooling, const std::string& origin);

struct EmbedOptions {
  std::vector<PoolChoice> pools;  // at least one, unless token_states
  // Also return every token's hidden state at `layer` ([CLS]/[SEP] included); not with windows.
  bool token_states = false;
  bool normalize_tokens = false;  // L2-normalise each token state
  int64_t layer = -1;             // hidden states pooled: K in [-(L+1), L]
  int64_t max_length = 0;         // tokens incl. specials; 0: the model's (see Embedder)
  OnLong on_long = OnLong::kTruncate;
  int64_t stride = 0;             // window mode: step between window starts; 0: half a window
  // Called after each batch with (inputs done, inputs total); may be empty.
  std::function<void(int64_t, int64_t)> progress;
};

struct EmbedResult {
  int64_t rows = 0;  // number of inputs
  int64_t dim = 0;   // H
  std::vector<std::vector<float>> matrices;  // one per EmbedOptions::pools entry, [rows, dim]
  std::vector<std::vector<float>> token_states;  // per input [T_i, dim], when asked
  int64_t tokens = 0;     // tokens run through the model, specials included
  int64_t truncated = 0;  // inputs cut to max_length (truncate mode)
  int64_t windowed = 0;   // inputs split into windows (window mode)
};

class Embedder {
 public:
  // Opens nothing itself: the model file is already mapped. max_tokens bounds a packed batch.
  Embedder(std::shared_ptr<const ModelFile> model, const BackendOptions& backend,
           int64_t max_tokens = 8192);
  ~Embedder();

  const ModelFile& model_file() const { return *file_; }
  BertModel& model() { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  int64_t dim() const { return model_->config().hidden_size; }
  int64_t default_max_length() const { return bertc::default_max_length(*file_); }

  // Throws bertc::Error naming the input's line when it is too long in kError mode or has ids
  // out of range.
  EmbedResult embed(const std::vector<EmbedInput>& inputs, const EmbedOptions& options);

  // Convenience for callers with plain texts and a single mode: [texts.size(), dim()] row-major.
  std::vector<float> embed_texts(const std::vector<std::string>& texts, const PoolChoice& pool);

 private:
  std::shared_ptr<const ModelFile> file_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<BertModel> model_;
};

}  // namespace bertc
