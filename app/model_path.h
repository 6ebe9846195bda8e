// The model used when none is named: $BERTC_MODEL, else the default installed by tools/setup.sh
// at ${XDG_DATA_HOME:-$HOME/.local/share}/bertc/default.bertc. The CLI and the Python package
// look it up the same way. open_bert_model is how every command opens a BERT model.
#pragma once

#include <memory>
#include <string>

namespace bertc {

class ModelFile;

std::string default_model_path();

// Opens and validates a .bertc BERT model; a word-vector file given where a BERT model belongs
// is an error saying so and pointing at --w2v.
std::shared_ptr<const ModelFile> open_bert_model(const std::string& path);

}  // namespace bertc
