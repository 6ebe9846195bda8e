// Embedding modes shared by `bertc similarity`, `bertc search` and `bertc index`: BERT poolings
// (pooled, mean, cls, max via app/embedder.h) and word2vec averaging (w2v, app/word_vectors.h),
// plus reading a corpus (plain lines or JSON lines with "text" and an optional "id").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/device_choice.h"

namespace bertc {

class Embedder;
class ModelFile;
class WordVectors;

struct ModeOptions {
  std::string model_path;  // -m; empty: default_model_path() when a BERT mode is asked for
  std::string w2v_path;    // --w2v
  std::string modes;       // comma-separated; empty: from which models were given
  DeviceChoice device;      // threads also for the word2vec scans
  bool quiet = false;
};

// The embeddings of one mode, [rows, dim] row-major.
struct ModeMatrix {
  std::string name;
  int64_t rows = 0, dim = 0;
  std::vector<float> data;
};

class TextModes {
 public:
  // Opens the models the modes need. Default modes: w2v when only --w2v is given, else the BERT
  // model's `pooled,mean` (+ w2v with --w2v). Throws UsageError for unknown modes.
  explicit TextModes(const ModeOptions& options);
  ~TextModes();

  const std::vector<std::string>& names() const { return names_; }
  // A note shown with a mode's results ("pooled" of a sentence-transformers model: its pooler
  // was never trained for similarity); empty when there is nothing to say.
  std::string note(const std::string& mode) const;
  // mode_fingerprint of the model behind `mode`.
  std::string fingerprint(const std::string& mode) const;

  // One matrix per mode, in names() order. `what` names the texts in warnings ("query",
  // "corpus line"); per-text out-of-vocabulary reports are printed when `per_text_report`.
  std::vector<ModeMatrix> embed(const std::vector<std::string>& texts, const std::string& what,
                                bool per_text_report) const;

 private:
  ModeOptions options_;
  std::vector<std::string> names_;
  std::shared_ptr<const ModelFile> bert_file_;
  std::unique_ptr<Embedder> embedder_;
  std::unique_ptr<WordVectors> w2v_;
};

// What an index stores per mode to tell which model embedded it: the model file's fingerprint
// (ModelFile::fingerprint) and the mode's name.
std::string mode_fingerprint(const ModelFile& file, const std::string& mode);

struct Corpus {
  std::vector<std::string> texts;
  std::vector<std::string> ids;  // empty unless the corpus is JSON lines with "id"
};

// Reads one document per non-blank line; JSON lines ({"text", "id"?}) when the file ends in
// .jsonl or its first non-blank line starts with '{'. Throws naming FILE:LINE.
Corpus read_corpus(const std::string& path);
// One text per line of `path` ('-' = stdin), blank lines skipped.
std::vector<std::string> read_lines(const std::string& path);

}  // namespace bertc
