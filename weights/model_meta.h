// The metadata JSON of a .bertc file (weights/FORMAT.md, "Metadata"): configs to JSON for the
// writer, and back with every field checked for the reader. Errors name `file` and the field.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "weights/model_file.h"

namespace bertc {

nlohmann::json bert_config_to_json(const BertConfig& c);
nlohmann::json tokenizer_config_to_json(const TokenizerConfig& t);
nlohmann::json pooling_config_to_json(const std::optional<PoolingConfig>& p);
nlohmann::json word2vec_info_to_json(const Word2VecInfo& w);

// `file` prefixes error messages; `where` names the JSON object ("bert.config").
BertConfig bert_config_from_json(const nlohmann::json& j, const std::string& file);
TokenizerConfig tokenizer_config_from_json(const nlohmann::json& j, const std::string& file);
std::optional<PoolingConfig> pooling_config_from_json(const nlohmann::json& j, const std::string& file);
Word2VecInfo word2vec_info_from_json(const nlohmann::json& j, const std::string& file);

// Checks ranges the engine relies on (positive sizes, heads divide hidden, no absurd dims);
// shared by the reader and by the converter's config.json parsing.
void validate_bert_config(const BertConfig& c, const std::string& file);

}  // namespace bertc
