// Hugging Face BERT tensor names -> canonical bertc names (the modern BertModel names without the
// "bert." prefix; see the end of weights/model_file.h), and the tensor set a config implies.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "weights/model_file.h"

namespace bertc {

struct ExpectedTensor {
  std::string name;
  std::vector<int64_t> shape;
  bool optional = false;  // the pooler: many embedding checkpoints lack it
};

// Every weight tensor of a BertModel with this config, in a stable order (embeddings, layers, pooler).
std::vector<ExpectedTensor> expected_bert_tensors(const BertConfig& config);

struct MappedName {
  enum Action { kKeep, kIgnore } action = kKeep;
  std::string name;    // canonical name when kept
  std::string reason;  // why it is ignored, for the note on stderr
};

// Maps one source name: strips "bert.", renames LayerNorm gamma/beta to weight/bias, ignores
// position_ids buffers and pretraining heads (cls.*). The result may still be a name the config
// does not expect; the converter reports those.
MappedName map_bert_name(std::string_view source);

}  // namespace bertc
