// Embedding modes and corpus reading for similarity / search / index (see app/text_modes.h).
#include "app/text_modes.h"

#include <cstdio>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/embedder.h"
#include "common/error.h"
#include "engine/make_backend.h"
#include "app/word_vectors.h"
#include "common/strings.h"
#include "common/progress.h"
#include "weights/model_file.h"
#include "app/model_path.h"

namespace bertc {

TextModes::TextModes(const ModeOptions& options) : options_(options) {
  std::string spec = options.modes;
  if (spec.empty()) {
    if (!options.w2v_path.empty() && options.model_path.empty()) {
      spec = "w2v";
    } else {
      spec = options.w2v_path.empty() ? "pooled,mean" : "pooled,mean,w2v";
    }
  }
  std::string bert_spec;
  for (const std::string& word : split_list(spec)) {
    if (word == "w2v") {
      if (options.w2v_path.empty()) throw UsageError("mode w2v needs --w2v W2V.bertc");
    } else if (word == "pooled" || word == "mean" || word == "cls" || word == "max") {
      bert_spec += (bert_spec.empty() ? "" : ",") + word;
    } else {
      throw UsageError(str_cat("unknown mode '", word, "' (pooled, mean, cls, max, w2v)"));
    }
    if (std::find(names_.begin(), names_.end(), word) == names_.end()) names_.push_back(word);
  }
  if (!bert_spec.empty()) {
    bert_file_ = ModelFile::open(options.model_path.empty() ? default_model_path() : options.model_path);
    embedder_ = std::make_unique<Embedder>(bert_file_, options.device.backend_options());
  }
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

std::vector<ModeMatrix> TextModes::embed(const std::vector<std::string>& texts,
                                         const std::string& what, bool per_text_report) const {
  std::vector<ModeMatrix> out;
  const int64_t rows = static_cast<int64_t>(texts.size());
  EmbedResult bert;
  std::vector<PoolChoice> pools;
  if (embedder_) {
    for (const std::string& name : names_)
      if (name != "w2v") pools.push_back(parse_pool_choices(name, false, *bert_file_).front());
    std::vector<EmbedInput> inputs(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      inputs[i].text = texts[i];
      inputs[i].line = static_cast<int64_t>(i) + 1;
    }
    EmbedOptions opt;
    opt.pools = pools;
    Progress progress("embedding " + what + "s", rows, !options_.quiet);
    opt.progress = [&](int64_t done, int64_t total) {
      progress.update(done * rows / std::max<int64_t>(total, 1));
    };
    bert = embedder_->embed(inputs, opt);
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
      m.dim = bert.dim;
      m.data = std::move(bert.matrices[pool_index++]);
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

namespace {

std::ifstream open_input(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  BERTC_CHECK(in, path, ": cannot open");
  return in;
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r") == std::string::npos; }

}  // namespace

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream file;
  if (path != "-") file = open_input(path);
  std::istream& in = path == "-" ? std::cin : file;
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!blank(line)) out.push_back(line);
  }
  BERTC_CHECK(!in.bad(), path, ": read error");
  return out;
}

Corpus read_corpus(const std::string& path) {
  std::vector<std::string> lines;
  std::vector<int64_t> line_numbers;
  {
    std::ifstream in = open_input(path);
    int64_t n = 0;
    for (std::string line; std::getline(in, line);) {
      ++n;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (blank(line)) continue;
      lines.push_back(std::move(line));
      line_numbers.push_back(n);
    }
    BERTC_CHECK(!in.bad(), path, ": read error");
  }
  BERTC_CHECK(!lines.empty(), path, ": the corpus is empty");
  Corpus corpus;
  const bool jsonl = (path.size() > 6 && path.ends_with(".jsonl")) ||
                     lines[0].find_first_not_of(" \t") == lines[0].find('{');
  if (!jsonl) {
    corpus.texts = std::move(lines);
    return corpus;
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string where = str_cat(path, ":", line_numbers[i]);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(lines[i]);
    } catch (const nlohmann::json::exception& e) {
      BERTC_FAIL(where, ": invalid JSON (", e.what(), ")");
    }
    BERTC_CHECK(j.is_object() && j.contains("text") && j["text"].is_string(), where,
                ": expected an object with a string \"text\" (and an optional \"id\")");
    corpus.texts.push_back(j["text"].get<std::string>());
    if (j.contains("id")) {
      BERTC_CHECK(corpus.ids.size() == i, where, ": \"id\" must be on every line or none");
      corpus.ids.push_back(j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump());
    } else {
      BERTC_CHECK(corpus.ids.empty(), where, ": \"id\" must be on every line or none");
    }
  }
  return corpus;
}

}  // namespace bertc
