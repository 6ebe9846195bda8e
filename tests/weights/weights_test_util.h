// Helpers for the weights and CLI tests: a temp directory, whole-file I/O, a safetensors builder
// (well-formed, or hostile through raw headers), a tiny BERT folder generator and a bertc runner.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace bertc::testing {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "bertc_test_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return (fs::path(path_) / name).string(); }
  const std::string& path() const { return path_; }
  // Writes `bytes` to a file in the directory and returns its path.
  std::string write(const std::string& name, const std::string& bytes) const {
    std::ofstream(*this / name, std::ios::binary) << bytes;
    return *this / name;
  }
  // Entries in the directory: tests assert that a failure leaves no output or temp file.
  size_t count() const {
    return static_cast<size_t>(std::distance(fs::directory_iterator(path_), fs::directory_iterator()));
  }

 private:
  std::string path_;
};

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

using test::read_file;

template <typename T>
std::string bytes_of(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

inline std::string u64_le(uint64_t v) {
  std::string s(8, '\0');
  std::memcpy(s.data(), &v, 8);
  return s;
}

// safetensors bytes: {"name": {dtype, shape, data_offsets}} with data laid out in insertion order.
class SafetensorsBuilder {
 public:
  SafetensorsBuilder& add(const std::string& name, const std::string& dtype,
                          std::vector<int64_t> shape, const std::string& data) {
    uint64_t begin = data_.size();
    data_ += data;
    header_[name] = {{"dtype", dtype}, {"shape", shape}, {"data_offsets", {begin, data_.size()}}};
    return *this;
  }
  SafetensorsBuilder& add_f32(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& v) {
    return add(name, "F32", std::move(shape), bytes_of(v));
  }
  nlohmann::json& header() { return header_; }
  std::string& data() { return data_; }
  std::string build() const { return build_raw(header_.dump(), data_); }
  static std::string build_raw(const std::string& header, const std::string& data) {
    return u64_le(header.size()) + header + data;
  }

 private:
  nlohmann::json header_ = nlohmann::json::object();
  std::string data_;
};

// A small BertModel config; tensors follow expected_bert_tensors() in bert_names.h.
struct TinyBert {
  int64_t vocab = 12, hidden = 8, layers = 1, heads = 2, inter = 16, positions = 16, types = 2;

  std::vector<std::string> vocab_tokens() const {
    std::vector<std::string> v = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (int64_t i = static_cast<int64_t>(v.size()); i < vocab; ++i) v.push_back("tok" + std::to_string(i));
    return v;
  }
  nlohmann::json config() const {
    return {{"model_type", "bert"},          {"vocab_size", vocab},
            {"hidden_size", hidden},         {"num_hidden_layers", layers},
            {"num_attention_heads", heads},  {"intermediate_size", inter},
            {"max_position_embeddings", positions}, {"type_vocab_size", types},
            {"layer_norm_eps", 1e-12},       {"hidden_act", "gelu"},
            {"pad_token_id", 0}};
  }
  // (name, shape) of every tensor, HF modern names, pooler included.
  std::vector<std::pair<std::string, std::vector<int64_t>>> tensors() const {
    std::vector<std::pair<std::string, std::vector<int64_t>>> t = {
        {"embeddings.word_embeddings.weight", {vocab, hidden}},
        {"embeddings.position_embeddings.weight", {positions, hidden}},
        {"embeddings.token_type_embeddings.weight", {types, hidden}},
        {"embeddings.LayerNorm.weight", {hidden}},
        {"embeddings.LayerNorm.bias", {hidden}}};
    for (int64_t l = 0; l < layers; ++l) {
      std::string p = "encoder.layer." + std::to_string(l) + ".";
      for (const char* m : {"query", "key", "value"}) {
        t.push_back({p + "attention.self." + m + ".weight", {hidden, hidden}});
        t.push_back({p + "attention.self." + m + ".bias", {hidden}});
      }
      t.push_back({p + "attention.output.dense.weight", {hidden, hidden}});
      t.push_back({p + "attention.output.dense.bias", {hidden}});
      t.push_back({p + "attention.output.LayerNorm.weight", {hidden}});
      t.push_back({p + "attention.output.LayerNorm.bias", {hidden}});
      t.push_back({p + "intermediate.dense.weight", {inter, hidden}});
      t.push_back({p + "intermediate.dense.bias", {inter}});
      t.push_back({p + "output.dense.weight", {hidden, inter}});
      t.push_back({p + "output.dense.bias", {hidden}});
      t.push_back({p + "output.LayerNorm.weight", {hidden}});
      t.push_back({p + "output.LayerNorm.bias", {hidden}});
    }
    t.push_back({"pooler.dense.weight", {hidden, hidden}});
    t.push_back({"pooler.dense.bias", {hidden}});
    return t;
  }
  // All weights as a safetensors builder with deterministic random values.
  SafetensorsBuilder safetensors(uint32_t seed = 1) const {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 0.5f);
    SafetensorsBuilder b;
    for (const auto& [name, shape] : tensors()) {
      int64_t n = 1;
      for (int64_t d : shape) n *= d;
      std::vector<float> v(n);
      for (float& x : v) x = dist(rng);
      b.add_f32(name, shape, v);
    }
    return b;
  }
  // Writes config.json, vocab.txt and model.safetensors into dir.
  void write_folder(const std::string& dir) const {
    fs::create_directories(dir);
    write_file(dir + "/config.json", config().dump(2));
    std::string vocab_txt;
    for (const std::string& t : vocab_tokens()) vocab_txt += t + "\n";
    write_file(dir + "/vocab.txt", vocab_txt);
    write_file(dir + "/model.safetensors", safetensors().build());
  }
};

using RunResult = test::CliResult;

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs the built bertc with `args`, capturing stdout and stderr.
inline RunResult run_bertc(const std::vector<std::string>& args) {
  std::string quoted;
  for (const std::string& a : args) quoted.append(" ").append(shell_quote(a));
  return test::run_bertc_args(quoted);
}

inline size_t count_lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace bertc::testing
