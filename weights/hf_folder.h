// Reading a Hugging Face BERT folder as downloaded: config.json, vocab.txt, the optional tokenizer
// files and sentence-transformers pooling files, and where the weights are. Errors name the file.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "weights/model_file.h"

namespace bertc {

struct HfFolder {
  BertConfig config;
  TokenizerConfig tokenizer;
  std::optional<PoolingConfig> pooling;
  std::vector<std::string> vocab;
  std::string weights_path;    // model.safetensors, model.safetensors.index.json or pytorch_model.bin
  bool weights_are_safetensors = true;
};

HfFolder read_hf_folder(const std::string& dir);

BertConfig read_bert_config(const std::string& config_json_path);
// vocab.txt: one token per line, LF or CRLF; empty or duplicate lines are errors.
std::vector<std::string> read_vocab_txt(const std::string& path);
// tokenizer_config.json then special_tokens_map.json (either may be absent); HF defaults otherwise.
TokenizerConfig read_tokenizer_config(const std::string& dir, int64_t max_position_embeddings);
// 1_Pooling/config.json (path taken from modules.json when present), Normalize from modules.json,
// max_seq_length from sentence_bert_config.json; nullopt when the folder has no pooling config.
std::optional<PoolingConfig> read_pooling_config(const std::string& dir);

}  // namespace bertc
