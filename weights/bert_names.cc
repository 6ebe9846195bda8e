// The one table of BERT name rules. Legacy checkpoints (Google's TF port, BertForPreTraining)
// use "bert." and LayerNorm gamma/beta; tests/weights/bert_names_test.cc covers each rule.
#include "weights/bert_names.h"

namespace bertc {
namespace {

struct Rule {
  std::string_view from;  // suffix (or prefix, see below) in the source name
  std::string_view to;
};

// LayerNorm parameters in checkpoints converted from TensorFlow.
constexpr Rule kSuffixRenames[] = {
    {"LayerNorm.gamma", "LayerNorm.weight"},
    {"LayerNorm.beta", "LayerNorm.bias"},
};

// Prefixes a BertModel gets inside task models (BertForPreTraining, BertForMaskedLM, ...).
constexpr std::string_view kStripPrefixes[] = {"bert."};

struct Ignore {
  std::string_view prefix_or_suffix;
  bool is_prefix;
  std::string_view reason;
};

constexpr Ignore kIgnored[] = {
    {"position_ids", false, "constant buffers, not weights"},
    {"cls.", true, "pretraining heads, unused for embeddings"},
};

}  // namespace

std::vector<ExpectedTensor> expected_bert_tensors(const BertConfig& c) {
  const int64_t H = c.hidden_size, I = c.intermediate_size;
  std::vector<ExpectedTensor> out = {
      {"embeddings.word_embeddings.weight", {c.vocab_size, H}},
      {"embeddings.position_embeddings.weight", {c.max_position_embeddings, H}},
      {"embeddings.token_type_embeddings.weight", {c.type_vocab_size, H}},
      {"embeddings.LayerNorm.weight", {H}},
      {"embeddings.LayerNorm.bias", {H}},
  };
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    for (const char* qkv : {"query", "key", "value"}) {
      out.push_back({p + "attention.self." + qkv + ".weight", {H, H}});
      out.push_back({p + "attention.self." + qkv + ".bias", {H}});
    }
    out.push_back({p + "attention.output.dense.weight", {H, H}});
    out.push_back({p + "attention.output.dense.bias", {H}});
    out.push_back({p + "attention.output.LayerNorm.weight", {H}});
    out.push_back({p + "attention.output.LayerNorm.bias", {H}});
    out.push_back({p + "intermediate.dense.weight", {I, H}});
    out.push_back({p + "intermediate.dense.bias", {I}});
    out.push_back({p + "output.dense.weight", {H, I}});
    out.push_back({p + "output.dense.bias", {H}});
    out.push_back({p + "output.LayerNorm.weight", {H}});
    out.push_back({p + "output.LayerNorm.bias", {H}});
  }
  out.push_back({"pooler.dense.weight", {H, H}, true});
  out.push_back({"pooler.dense.bias", {H}, true});
  return out;
}

MappedName map_bert_name(std::string_view source) {
  MappedName m;
  for (const Ignore& ig : kIgnored) {
    if (ig.is_prefix ? source.starts_with(ig.prefix_or_suffix) : source.ends_with(ig.prefix_or_suffix)) {
      m.action = MappedName::kIgnore;
      m.reason = ig.reason;
      return m;
    }
  }
  std::string_view rest = source;
  for (std::string_view p : kStripPrefixes)
    if (rest.starts_with(p)) rest.remove_prefix(p.size());
  m.name = std::string(rest);
  for (const Rule& r : kSuffixRenames) {
    if (rest.ends_with(r.from)) {
      m.name = std::string(rest.substr(0, rest.size() - r.from.size())) + std::string(r.to);
      break;
    }
  }
  return m;
}

}  // namespace bertc
