// Embedding modes shared by `bertc similarity`, `bertc search` and `bertc index`: BERT poolings
// (auto, pooled, mean, cls, max via app/embedder.h) and word-vector averaging (w2v,
// app/word_vectors.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/device_choice.h"
#include "app/embedder.h"

namespace bertc {

class Embedder;
class ModelFile;
class WordVectors;

struct ModeOptions {
  std::string model_path;  // -m; empty: default_model_path() when a BERT mode is asked for
  std::string w2v_path;    // --w2v
  std::string modes;       // --pool, comma-separated; empty: the default below
  DeviceChoice device;     // threads also for the word-vector scans
  bool quiet = false;
};

// The BERT modes used when none are asked for: the model's own pooling (sentence-transformers
// config, else mean), plus w2v when --w2v is given; w2v alone when only --w2v is given.
inline constexpr const char* kDefaultBertModes = "auto";
// --pool's help, stating that default.
inline constexpr const char* kModesHelp =
    "comma-separated modes: auto (the model's own pooling: its sentence-transformers config, else "
    "mean), pooled, mean, cls, max (BERT) and w2v (word vectors); default: auto, plus w2v with "
    "--w2v, or w2v alone when only --w2v is given";

// The embeddings of one mode, [rows, dim] row-major.
struct ModeMatrix {
  std::string name;
  int64_t rows = 0, dim = 0;
  std::vector<float> data;
};

class TextModes {
 public:
  // Opens the models the modes need and resolves `auto` to the model's pooling (names() holds
  // the resolved names, each once). Throws UsageError for unknown modes and for pooled on a model
  // without pooler weights, before any work.
  explicit TextModes(const ModeOptions& options);
  ~TextModes();

  const std::vector<std::string>& names() const { return names_; }
  // A note shown with a mode's results ("pooled" of a sentence-transformers model: its pooler
  // was never trained for similarity); empty when there is nothing to say.
  std::string note(const std::string& mode) const;
  // mode_fingerprint of the model behind `mode`.
  std::string fingerprint(const std::string& mode) const;
  // The file of the model behind `mode`, as it was opened.
  const std::string& model_path(const std::string& mode) const;

  // One matrix per mode, in names() order. `what` names the texts in warnings ("query",
  // "corpus line"); per-text out-of-vocabulary reports are printed when `per_text_report`.
  // Invalid UTF-8 is refused in every mode alike (app/text_input.h's message).
  std::vector<ModeMatrix> embed(const std::vector<std::string>& texts, const std::string& what,
                                bool per_text_report) const;

 private:
  ModeOptions options_;
  std::vector<std::string> names_;
  std::vector<PoolChoice> pools_;  // the BERT modes, in names() order
  std::shared_ptr<const ModelFile> bert_file_;
  std::unique_ptr<Embedder> embedder_;
  std::unique_ptr<WordVectors> w2v_;
};

// What an index stores per mode to tell which model embedded it: the model file's fingerprint
// (ModelFile::fingerprint) and the mode's name.
std::string mode_fingerprint(const ModelFile& file, const std::string& mode);

}  // namespace bertc
