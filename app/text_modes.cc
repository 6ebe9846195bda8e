// Embedding modes for similarity / search / index (see app/text_modes.h).
#include "app/text_modes.h"

#include <algorithm>
#include <cstdio>

#include "app/model_path.h"
#include "app/text_input.h"
#include "app/word_vectors.h"
#include "common/error.h"
#include "common/progress.h"
#include "common/strings.h"
#include "weights/model_file.h"

namespace bertc {

TextModes::TextModes(const ModeOptions& options) : options_(options) {
  std::string spec = options.modes;
  if (spec.empty()) {
    if (!options.w2v_path.empty() && options.model_path.empty()) {
      spec = "w2v";
    } else {
      spec = options.w2v_path.empty() ? kDefaultBertModes : str_cat(kDefaultBertModes, ",w2v");
    }
  }
  if (spec.find_first_not_of(", ") == std::string::npos)
    throw UsageError("--pool: no mode given (auto, pooled, mean, cls, max, w2v)");
  const std::vector<std::string> words = split_list(spec);
  bool any_bert = false;
  for (const std::string& word : words) {
    if (word == "w2v") {
      if (options.w2v_path.empty()) throw UsageError("--pool w2v needs --w2v W2V.bertc");
    } else if (word == "auto" || word == "pooled" || word == "mean" || word == "cls" || word == "max") {
      any_bert = true;
    } else {
      throw UsageError(str_cat("--pool: unknown mode '", word, "' (auto, pooled, mean, cls, max, w2v)"));
    }
  }
  if (any_bert)
    bert_file_ = open_bert_model(options.model_path.empty() ? default_model_path() : options.model_path);
  // Resolved now, so `auto` shows as the mode it is and `pooled` without a pooler fails before
  // any work; a mode asked for twice (auto and mean) is run once.
  for (const std::string& word : words) {
    PoolChoice c;
    c.name = word;
    if (word != "w2v") c = parse_pool_choices(word, false, *bert_file_).front();
    if (std::find(names_.begin(), names_.end(), c.name) != names_.end()) continue;
    names_.push_back(c.name);
    if (word != "w2v") pools_.push_back(c);
  }
  if (any_bert) embedder_ = std::make_unique<Embedder>(bert_file_, options.device.backend_options());
  if (std::find(names_.begin(), names_.end(), "w2v") != names_.end())
    w2v_ = std::make_unique<WordVectors>(WordVectors::open(options.w2v_path));
}

TextModes::~TextModes() = default;

std::string TextModes::note(const std::string& mode) const {
  // A sentence-transformers model is trained through its mean (or cls) pooling; the BERT pooler
  // head it still carries was never trained for similarity, so its scores are near-arbitrary.
  if (mode == "pooled" && bert_file_ && bert_file_->pooling_config())
    return "pooler not trained for similarity in this sentence-transformers model";
  return "";
}

std::string TextModes::fingerprint(const std::string& mode) const {
  return mode_fingerprint(mode == "w2v" ? w2v_->file() : *bert_file_, mode);
}

std::string mode_fingerprint(const ModelFile& file, const std::string& mode) {
  return file.fingerprint() + ":" + mode;
}

const std::string& TextModes::model_path(const std::string& mode) const {
  return (mode == "w2v" ? w2v_->file() : *bert_file_).path();
}

std::vector<ModeMatrix> TextModes::embed(const std::vector<std::string>& texts,
                                         const std::string& what, bool per_text_report) const {
  std::vector<ModeMatrix> out;
  const int64_t rows = static_cast<int64_t>(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) checked_utf8(texts[i], str_cat(what, " ", i + 1), false);
  EmbedResult bert;
  if (embedder_ && rows > 0) {
    std::vector<EmbedInput> inputs(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      inputs[i].text = texts[i];
      inputs[i].line = static_cast<int64_t>(i) + 1;
    }
    EmbedOptions opt;
    opt.pools = pools_;
    Progress progress("embedding " + what + "s", rows, !options_.quiet);
    opt.progress = [&](int64_t done, int64_t total) {
      progress.update(done * rows / std::max<int64_t>(total, 1));
    };
    bert = embedder_->embed(inputs, opt);
    progress.finish();
    if (bert.truncated > 0 && !options_.quiet)
      std::fprintf(stderr, "bertc: note: %lld %ss truncated to the model's max length\n",
                   static_cast<long long>(bert.truncated), what.c_str());
  }
  size_t pool_index = 0;
  for (const std::string& name : names_) {
    ModeMatrix m;
    m.name = name;
    m.rows = rows;
    if (name != "w2v") {
      m.dim = embedder_->dim();
      if (rows > 0) m.data = std::move(bert.matrices[pool_index]);
      ++pool_index;
    } else {
      m.dim = w2v_->dim();
      m.data.resize(static_cast<size_t>(rows * m.dim));
      int64_t words = 0, oov = 0, empty = 0;
      for (int64_t i = 0; i < rows; ++i) {
        SentenceStats s = sentence_vector(*w2v_, texts[i], m.data.data() + i * m.dim);
        words += s.words;
        oov += s.oov;
        if (s.found == 0) {
          ++empty;
          if (per_text_report)
            std::fprintf(stderr, "bertc: warning: w2v: %s %lld has no word in the vocabulary "
                         "(zero vector: cosine 0 with everything)\n", what.c_str(),
                         static_cast<long long>(i + 1));
        } else if (per_text_report && s.oov > 0 && !options_.quiet) {
          std::fprintf(stderr, "w2v: %s %lld: %lld of %lld words out of vocabulary\n", what.c_str(),
                       static_cast<long long>(i + 1), static_cast<long long>(s.oov),
                       static_cast<long long>(s.words));
        }
      }
      if (!per_text_report && (empty > 0 || (!options_.quiet && oov > 0)))
        std::fprintf(stderr, "w2v: %ss: %lld of %lld words out of vocabulary, %lld %ss with no known "
                     "word (zero vectors)\n", what.c_str(), static_cast<long long>(oov),
                     static_cast<long long>(words), static_cast<long long>(empty), what.c_str());
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace bertc
