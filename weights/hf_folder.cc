// Hugging Face folder reading. Optional fields take the defaults of transformers' BertConfig and
// BertTokenizer; required ones (the sizes) must be present with the right JSON type.
// Tested on tests/data/models/* and the real all-MiniLM-L6-v2 in tests/weights/hf_folder_test.cc.
#include "weights/hf_folder.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "weights/model_meta.h"
#include "common/utf8.h"

namespace bertc {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr uint64_t kMaxJsonNbytes = 64ull << 20;

std::string read_small_file(const std::string& path) {
  std::error_code ec;
  uint64_t n = fs::file_size(path, ec);
  BERTC_CHECK(!ec, path, ": cannot read: ", ec.message());
  BERTC_CHECK(n <= kMaxJsonNbytes, path, ": file is ", n, " bytes, larger than expected");
  std::ifstream in(path, std::ios::binary);
  BERTC_CHECK(in, path, ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json read_json(const std::string& path) {
  std::string text = read_small_file(path);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    BERTC_FAIL(path, ": not valid JSON (", e.what(), ")");
  }
  BERTC_CHECK(j.is_object(), path, ": expected a JSON object");
  return j;
}

int64_t int_field(const json& j, const char* key, const std::string& path, std::optional<int64_t> def) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    BERTC_CHECK(def.has_value(), path, ": required field \"", key, "\" is missing");
    return *def;
  }
  BERTC_CHECK(it->is_number_integer(), path, ": \"", key, "\" must be an integer, got ", it->dump());
  BERTC_CHECK(!it->is_number_unsigned() || it->get<uint64_t>() <= INT64_MAX, path, ": \"", key,
              "\" is out of range: ", it->dump());
  return it->get<int64_t>();
}

std::string string_field(const json& j, const char* key, const std::string& path, const std::string& def) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  BERTC_CHECK(it->is_string(), path, ": \"", key, "\" must be a string, got ", it->dump());
  return it->get<std::string>();
}

bool bool_field(const json& j, const char* key, const std::string& path, bool def) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  BERTC_CHECK(it->is_boolean(), path, ": \"", key, "\" must be true or false, got ", it->dump());
  return it->get<bool>();
}

// A special token is a string or, in newer transformers, an AddedToken object {"content": ...}.
void special_token(const json& j, const char* key, const std::string& path, std::string* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  if (it->is_object() && it->contains("content")) {
    const json& c = (*it)["content"];
    BERTC_CHECK(c.is_string(), path, ": \"", key, "\".content must be a string");
    *out = c.get<std::string>();
    return;
  }
  BERTC_CHECK(it->is_string(), path, ": \"", key, "\" must be a string or {\"content\": ...}");
  *out = it->get<std::string>();
}

}  // namespace

BertConfig read_bert_config(const std::string& path) {
  BERTC_CHECK(fs::exists(path), path, ": missing (a Hugging Face model folder needs config.json)");
  json j = read_json(path);
  std::string model_type = string_field(j, "model_type", path, "bert");
  BERTC_CHECK(model_type == "bert", path, ": model_type is '", model_type,
              "'; bertc converts BERT models only");
  BertConfig c;
  c.vocab_size = int_field(j, "vocab_size", path, std::nullopt);
  c.hidden_size = int_field(j, "hidden_size", path, std::nullopt);
  c.num_hidden_layers = int_field(j, "num_hidden_layers", path, std::nullopt);
  c.num_attention_heads = int_field(j, "num_attention_heads", path, std::nullopt);
  c.intermediate_size = int_field(j, "intermediate_size", path, std::nullopt);
  c.max_position_embeddings = int_field(j, "max_position_embeddings", path, 512);
  c.type_vocab_size = int_field(j, "type_vocab_size", path, 2);
  c.pad_token_id = int_field(j, "pad_token_id", path, 0);
  if (auto it = j.find("layer_norm_eps"); it != j.end() && !it->is_null()) {
    BERTC_CHECK(it->is_number(), path, ": \"layer_norm_eps\" must be a number, got ", it->dump());
    c.layer_norm_eps = it->get<double>();
  }
  c.hidden_act = string_field(j, "hidden_act", path, "gelu");
  c.position_embedding_type = string_field(j, "position_embedding_type", path, "absolute");
  validate_bert_config(c, path);
  return c;
}

std::vector<std::string> read_vocab_txt(const std::string& path) {
  BERTC_CHECK(fs::exists(path), path, ": missing (a BERT model folder needs vocab.txt)");
  std::error_code ec;
  uint64_t n = fs::file_size(path, ec);
  BERTC_CHECK(!ec && n <= (1ull << 31), path, ": cannot read or too large");
  std::ifstream in(path, std::ios::binary);
  BERTC_CHECK(in, path, ": cannot open");
  std::vector<std::string> vocab;
  std::unordered_map<std::string, size_t> line_of;
  std::string line;
  for (size_t lineno = 1; std::getline(in, line); ++lineno) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    BERTC_CHECK(!line.empty(), path, ": line ", lineno, " is empty (a token must not be empty)");
    BERTC_CHECK(!find_invalid_utf8(line), path, ": line ", lineno, " is not valid UTF-8");
    auto [it, inserted] = line_of.emplace(line, lineno);
    BERTC_CHECK(inserted, path, ": token '", line, "' appears twice (lines ", it->second, " and ",
                lineno, ")");
    vocab.push_back(std::move(line));
  }
  BERTC_CHECK(!vocab.empty(), path, ": the vocabulary is empty");
  return vocab;
}

TokenizerConfig read_tokenizer_config(const std::string& dir, int64_t max_position_embeddings) {
  TokenizerConfig t;
  t.model_max_length = max_position_embeddings;
  const std::string tc_path = (fs::path(dir) / "tokenizer_config.json").string();
  if (fs::exists(tc_path)) {
    json j = read_json(tc_path);
    t.do_lower_case = bool_field(j, "do_lower_case", tc_path, t.do_lower_case);
    if (auto it = j.find("strip_accents"); it != j.end() && !it->is_null()) {
      BERTC_CHECK(it->is_boolean(), tc_path, ": \"strip_accents\" must be true, false or null");
      t.strip_accents = it->get<bool>();
    }
    t.tokenize_chinese_chars = bool_field(j, "tokenize_chinese_chars", tc_path, t.tokenize_chinese_chars);
    for (auto [key, out] : {std::pair{"unk_token", &t.unk_token}, {"sep_token", &t.sep_token},
                            {"pad_token", &t.pad_token}, {"cls_token", &t.cls_token},
                            {"mask_token", &t.mask_token}})
      special_token(j, key, tc_path, out);
    // transformers writes a huge sentinel (int(1e30)) for "no limit": keep the position limit.
    if (auto it = j.find("model_max_length"); it != j.end() && !it->is_null()) {
      BERTC_CHECK(it->is_number(), tc_path, ": \"model_max_length\" must be a number");
      double v = it->get<double>();
      BERTC_CHECK(v > 0, tc_path, ": \"model_max_length\" must be positive");
      if (v < 1e9) t.model_max_length = static_cast<int64_t>(v);
    }
  }
  const std::string sm_path = (fs::path(dir) / "special_tokens_map.json").string();
  if (fs::exists(sm_path)) {
    json j = read_json(sm_path);
    for (auto [key, out] : {std::pair{"unk_token", &t.unk_token}, {"sep_token", &t.sep_token},
                            {"pad_token", &t.pad_token}, {"cls_token", &t.cls_token},
                            {"mask_token", &t.mask_token}})
      special_token(j, key, sm_path, out);
  }
  return t;
}

std::optional<PoolingConfig> read_pooling_config(const std::string& dir) {
  std::string pooling_dir = "1_Pooling";
  bool normalize = false;
  const std::string modules_path = (fs::path(dir) / "modules.json").string();
  if (fs::exists(modules_path)) {
    std::string text = read_small_file(modules_path);
    json modules;
    try {
      modules = json::parse(text);
    } catch (const json::exception& e) {
      BERTC_FAIL(modules_path, ": not valid JSON (", e.what(), ")");
    }
    BERTC_CHECK(modules.is_array(), modules_path, ": expected a JSON array of modules");
    for (const json& m : modules) {
      BERTC_CHECK(m.is_object(), modules_path, ": a module entry is not an object");
      std::string type = string_field(m, "type", modules_path, "");
      if (type.ends_with(".Normalize")) normalize = true;
      if (type.ends_with(".Pooling")) pooling_dir = string_field(m, "path", modules_path, "1_Pooling");
    }
  }
  BERTC_CHECK(pooling_dir.find("..") == std::string::npos && !pooling_dir.starts_with("/"),
              modules_path, ": pooling module path '", pooling_dir, "' leaves the model folder");
  const std::string pool_path = (fs::path(dir) / pooling_dir / "config.json").string();
  if (!fs::exists(pool_path)) return std::nullopt;
  json j = read_json(pool_path);
  struct { const char* key; const char* mode; } kModes[] = {
      {"pooling_mode_cls_token", "cls"},
      {"pooling_mode_mean_tokens", "mean"},
      {"pooling_mode_max_tokens", "max"},
      {"pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len"},
      {"pooling_mode_weightedmean_tokens", "weightedmean"},
      {"pooling_mode_lasttoken", "lasttoken"},
  };
  PoolingConfig p;
  for (const auto& m : kModes) {
    if (!bool_field(j, m.key, pool_path, false)) continue;
    BERTC_CHECK(p.mode.empty(), pool_path, ": several pooling modes are on (", p.mode, " and ",
                m.mode, "); bertc supports exactly one");
    p.mode = m.mode;
  }
  BERTC_CHECK(!p.mode.empty(), pool_path, ": no pooling mode is on");
  p.normalize = normalize;
  const std::string sb_path = (fs::path(dir) / "sentence_bert_config.json").string();
  if (fs::exists(sb_path)) {
    json sb = read_json(sb_path);
    p.max_seq_length = int_field(sb, "max_seq_length", sb_path, 0);
    BERTC_CHECK(p.max_seq_length >= 0, sb_path, ": \"max_seq_length\" must not be negative");
  }
  return p;
}

HfFolder read_hf_folder(const std::string& dir) {
  BERTC_CHECK(fs::is_directory(dir), dir, ": not a directory");
  HfFolder f;
  f.config = read_bert_config((fs::path(dir) / "config.json").string());
  f.tokenizer = read_tokenizer_config(dir, f.config.max_position_embeddings);
  f.pooling = read_pooling_config(dir);
  const std::string vocab_path = (fs::path(dir) / "vocab.txt").string();
  f.vocab = read_vocab_txt(vocab_path);
  BERTC_CHECK(static_cast<int64_t>(f.vocab.size()) <= f.config.vocab_size, vocab_path, ": has ",
              f.vocab.size(), " tokens but config.json vocab_size is ", f.config.vocab_size);
  for (const std::string* s : {&f.tokenizer.unk_token, &f.tokenizer.sep_token, &f.tokenizer.pad_token,
                               &f.tokenizer.cls_token, &f.tokenizer.mask_token}) {
    bool found = false;
    for (const std::string& t : f.vocab) found = found || t == *s;
    BERTC_CHECK(found, vocab_path, ": special token '", *s, "' is missing");
  }
  for (const char* name : {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"}) {
    std::string p = (fs::path(dir) / name).string();
    if (fs::exists(p)) {
      f.weights_path = p;
      f.weights_are_safetensors = std::string_view(name) != "pytorch_model.bin";
      break;
    }
  }
  BERTC_CHECK(!f.weights_path.empty() ||
                  !fs::exists(fs::path(dir) / "pytorch_model.bin.index.json"),
              dir, ": sharded pytorch_model.bin checkpoints are not supported; download the "
              "safetensors weights (model.safetensors or model.safetensors.index.json)");
  BERTC_CHECK(!f.weights_path.empty(), dir,
              ": no weights (model.safetensors, model.safetensors.index.json or pytorch_model.bin)");
  return f;
}

}  // namespace bertc
