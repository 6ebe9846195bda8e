// ModelWriter: streams a .bertc file (spec: weights/FORMAT.md) through OutputFile (a temp file
// renamed to OUT on commit() when OUT is a regular or new file); destroyed (or interrupted by
// SIGINT/SIGTERM) before commit, it leaves nothing behind.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/output_file.h"
#include "weights/model_file.h"

namespace bertc {

class ModelWriter {
 public:
  ModelWriter(std::string out_path, ModelKind kind);
  ~ModelWriter();

  void set_bert(const BertConfig& config, const TokenizerConfig& tokenizer,
                const std::optional<PoolingConfig>& pooling, const std::vector<std::string>& vocab);
  void set_word2vec(const Word2VecInfo& info);
  void set_metadata_json(std::string json);  // provenance, shown by `bertc inspect`

  // Declare every tensor first (this fixes the layout), then stream each tensor's bytes in
  // declaration order with one or more write() calls; checksums are computed on the way.
  void declare(std::string name, DType dtype, std::vector<int64_t> shape);
  // Changes the shape (same rank) of a declared tensor that has no bytes yet, even after earlier
  // tensors were streamed: for a size known only once they are written (word2vec's word bytes).
  void resize(std::string_view name, std::vector<int64_t> shape);
  void write(std::string_view name, const void* data, size_t nbytes);
  void commit();

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace bertc
