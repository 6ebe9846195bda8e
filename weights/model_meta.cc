// .bertc metadata <-> configs. Every required field is checked for presence and type, so a
// hand-edited or fuzzed file fails with "FILE: bert.config.hidden_size: ..." instead of a crash.
#include "weights/model_meta.h"

#include "common/error.h"

namespace bertc {
namespace {

using nlohmann::json;

const json& field(const json& obj, const char* where, const char* key, const std::string& file) {
  BERTC_CHECK(obj.is_object(), file, ": ", where, " is not a JSON object");
  auto it = obj.find(key);
  BERTC_CHECK(it != obj.end(), file, ": ", where, ".", key, " is missing");
  return *it;
}

int64_t get_int(const json& obj, const char* where, const char* key, const std::string& file) {
  const json& v = field(obj, where, key, file);
  BERTC_CHECK(v.is_number_integer(), file, ": ", where, ".", key, " must be an integer, got ",
              v.dump());
  if (v.is_number_unsigned()) {
    BERTC_CHECK(v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX), file, ": ", where, ".", key,
                " is out of range: ", v.dump());
  }
  return v.get<int64_t>();
}

bool get_bool(const json& obj, const char* where, const char* key, const std::string& file) {
  const json& v = field(obj, where, key, file);
  BERTC_CHECK(v.is_boolean(), file, ": ", where, ".", key, " must be true or false, got ", v.dump());
  return v.get<bool>();
}

std::string get_string(const json& obj, const char* where, const char* key, const std::string& file) {
  const json& v = field(obj, where, key, file);
  BERTC_CHECK(v.is_string(), file, ": ", where, ".", key, " must be a string, got ", v.dump());
  return v.get<std::string>();
}

}  // namespace

json bert_config_to_json(const BertConfig& c) {
  return {{"vocab_size", c.vocab_size},
          {"hidden_size", c.hidden_size},
          {"num_hidden_layers", c.num_hidden_layers},
          {"num_attention_heads", c.num_attention_heads},
          {"intermediate_size", c.intermediate_size},
          {"max_position_embeddings", c.max_position_embeddings},
          {"type_vocab_size", c.type_vocab_size},
          {"pad_token_id", c.pad_token_id},
          {"layer_norm_eps", c.layer_norm_eps},
          {"hidden_act", c.hidden_act},
          {"position_embedding_type", c.position_embedding_type}};
}

json tokenizer_config_to_json(const TokenizerConfig& t) {
  return {{"do_lower_case", t.do_lower_case},
          {"strip_accents", t.strip_accents ? json(*t.strip_accents) : json(nullptr)},
          {"tokenize_chinese_chars", t.tokenize_chinese_chars},
          {"unk_token", t.unk_token},
          {"sep_token", t.sep_token},
          {"pad_token", t.pad_token},
          {"cls_token", t.cls_token},
          {"mask_token", t.mask_token},
          {"model_max_length", t.model_max_length}};
}

json pooling_config_to_json(const std::optional<PoolingConfig>& p) {
  if (!p) return nullptr;
  return {{"mode", p->mode}, {"normalize", p->normalize}, {"max_seq_length", p->max_seq_length}};
}

json word2vec_info_to_json(const Word2VecInfo& w) {
  return {{"count", w.count}, {"dim", w.dim}, {"normalized", w.normalized}};
}

BertConfig bert_config_from_json(const json& j, const std::string& file) {
  const char* w = "bert.config";
  BertConfig c;
  c.vocab_size = get_int(j, w, "vocab_size", file);
  c.hidden_size = get_int(j, w, "hidden_size", file);
  c.num_hidden_layers = get_int(j, w, "num_hidden_layers", file);
  c.num_attention_heads = get_int(j, w, "num_attention_heads", file);
  c.intermediate_size = get_int(j, w, "intermediate_size", file);
  c.max_position_embeddings = get_int(j, w, "max_position_embeddings", file);
  c.type_vocab_size = get_int(j, w, "type_vocab_size", file);
  c.pad_token_id = get_int(j, w, "pad_token_id", file);
  const json& eps = field(j, w, "layer_norm_eps", file);
  BERTC_CHECK(eps.is_number(), file, ": ", w, ".layer_norm_eps must be a number, got ", eps.dump());
  c.layer_norm_eps = eps.get<double>();
  c.hidden_act = get_string(j, w, "hidden_act", file);
  c.position_embedding_type = get_string(j, w, "position_embedding_type", file);
  validate_bert_config(c, file);
  return c;
}

void validate_bert_config(const BertConfig& c, const std::string& file) {
  constexpr int64_t kMaxSize = int64_t{1} << 24;
  struct { const char* name; int64_t value; int64_t max; } sizes[] = {
      {"vocab_size", c.vocab_size, int64_t{1} << 31},
      {"hidden_size", c.hidden_size, kMaxSize},
      {"num_hidden_layers", c.num_hidden_layers, 4096},
      {"num_attention_heads", c.num_attention_heads, kMaxSize},
      {"intermediate_size", c.intermediate_size, kMaxSize},
      {"max_position_embeddings", c.max_position_embeddings, kMaxSize},
      {"type_vocab_size", c.type_vocab_size, kMaxSize},
  };
  for (const auto& s : sizes) {
    BERTC_CHECK(s.value > 0 && s.value <= s.max, file, ": config ", s.name, " = ", s.value,
                " is out of range (1..", s.max, ")");
  }
  BERTC_CHECK(c.hidden_size % c.num_attention_heads == 0, file, ": config hidden_size ",
              c.hidden_size, " is not a multiple of num_attention_heads ", c.num_attention_heads);
  BERTC_CHECK(c.pad_token_id >= 0 && c.pad_token_id < c.vocab_size, file, ": config pad_token_id ",
              c.pad_token_id, " is outside the vocabulary (vocab_size ", c.vocab_size, ")");
  BERTC_CHECK(c.layer_norm_eps >= 0 && c.layer_norm_eps < 1, file, ": config layer_norm_eps ",
              c.layer_norm_eps, " is out of range [0, 1)");
  BERTC_CHECK(!c.hidden_act.empty(), file, ": config hidden_act is empty");
}

TokenizerConfig tokenizer_config_from_json(const json& j, const std::string& file) {
  const char* w = "bert.tokenizer";
  TokenizerConfig t;
  t.do_lower_case = get_bool(j, w, "do_lower_case", file);
  const json& sa = field(j, w, "strip_accents", file);
  BERTC_CHECK(sa.is_null() || sa.is_boolean(), file, ": ", w,
              ".strip_accents must be true, false or null, got ", sa.dump());
  if (sa.is_boolean()) t.strip_accents = sa.get<bool>();
  t.tokenize_chinese_chars = get_bool(j, w, "tokenize_chinese_chars", file);
  t.unk_token = get_string(j, w, "unk_token", file);
  t.sep_token = get_string(j, w, "sep_token", file);
  t.pad_token = get_string(j, w, "pad_token", file);
  t.cls_token = get_string(j, w, "cls_token", file);
  t.mask_token = get_string(j, w, "mask_token", file);
  t.model_max_length = get_int(j, w, "model_max_length", file);
  BERTC_CHECK(t.model_max_length > 0, file, ": ", w, ".model_max_length must be positive, got ",
              t.model_max_length);
  return t;
}

std::optional<PoolingConfig> pooling_config_from_json(const json& j, const std::string& file) {
  if (j.is_null()) return std::nullopt;
  const char* w = "bert.pooling";
  PoolingConfig p;
  p.mode = get_string(j, w, "mode", file);
  // Stored as the source said; the engine refuses modes it cannot run (mean_sqrt_len, ...).
  BERTC_CHECK(p.mode == "mean" || p.mode == "cls" || p.mode == "max" || p.mode == "mean_sqrt_len" ||
                  p.mode == "weightedmean" || p.mode == "lasttoken",
              file, ": ", w, ".mode '", p.mode, "' is unknown");
  p.normalize = get_bool(j, w, "normalize", file);
  p.max_seq_length = get_int(j, w, "max_seq_length", file);
  BERTC_CHECK(p.max_seq_length >= 0, file, ": ", w, ".max_seq_length must not be negative, got ",
              p.max_seq_length);
  return p;
}

Word2VecInfo word2vec_info_from_json(const json& j, const std::string& file) {
  const char* w = "word2vec";
  Word2VecInfo info;
  info.count = get_int(j, w, "count", file);
  info.dim = get_int(j, w, "dim", file);
  info.normalized = get_bool(j, w, "normalized", file);
  BERTC_CHECK(info.count >= 0 && info.count <= (int64_t{1} << 32), file, ": ", w,
              ".count is out of range: ", info.count);
  BERTC_CHECK(info.dim > 0 && info.dim <= (int64_t{1} << 20), file, ": ", w,
              ".dim is out of range: ", info.dim);
  return info;
}

}  // namespace bertc
