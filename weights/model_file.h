// The in-memory face of a .bertc file (spec: weights/FORMAT.md): configs read from the file's
// metadata and tensors that are zero-copy views into a read-only mmap. Everything is validated in
// ModelFile::open before any tensor data is touched; checksums on demand (verify_checksums).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/dtype.h"

namespace bertc {

enum class ModelKind : uint32_t { kBert = 1, kWord2Vec = 2 };

// config.json fields that change the forward pass.
struct BertConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t intermediate_size = 0;
  int64_t max_position_embeddings = 0;
  int64_t type_vocab_size = 0;
  int64_t pad_token_id = 0;
  double layer_norm_eps = 1e-12;
  std::string hidden_act = "gelu";
  std::string position_embedding_type = "absolute";
};

// Tokenizer settings from tokenizer_config.json / special_tokens_map.json (HF defaults otherwise).
struct TokenizerConfig {
  bool do_lower_case = true;
  std::optional<bool> strip_accents;  // unset: follows do_lower_case, as in HF BertTokenizer
  bool tokenize_chinese_chars = true;
  std::string unk_token = "[UNK]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string cls_token = "[CLS]";
  std::string mask_token = "[MASK]";
  int64_t model_max_length = 512;
};

// sentence-transformers 1_Pooling/config.json (+ a Normalize module), when the folder has one.
struct PoolingConfig {
  std::string mode;  // "mean" | "cls" | "max"
  bool normalize = false;
  int64_t max_seq_length = 0;  // sentence_bert_config.json, 0 when absent
};

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t offset_bytes = 0;  // from the start of the file, 64-byte aligned
  uint64_t nbytes = 0;
  uint64_t checksum = 0;
  const void* data = nullptr;  // points into the mapping

  int64_t numel() const;
  template <typename T>
  std::span<const T> as() const {
    return {static_cast<const T*>(data), static_cast<size_t>(nbytes / sizeof(T))};
  }
};

// word2vec: words as bytes (kept as they are, UTF-8 or not) plus an open-addressing hash table,
// all stored as tensors so opening a 3M-word file is an mmap with no per-word work.
struct Word2VecInfo {
  int64_t count = 0;
  int64_t dim = 0;
  bool normalized = false;  // rows were L2-normalised at conversion
};

class ModelFile {
 public:
  // Maps and validates `path`; throws bertc::Error naming the file and the problem.
  static std::shared_ptr<const ModelFile> open(const std::string& path);
  ~ModelFile();
  ModelFile(const ModelFile&) = delete;
  ModelFile& operator=(const ModelFile&) = delete;

  const std::string& path() const { return path_; }
  uint32_t format_version() const { return version_; }
  ModelKind kind() const { return kind_; }
  uint64_t file_nbytes() const { return file_nbytes_; }

  // kind() == kBert
  const BertConfig& bert_config() const { return bert_; }
  const TokenizerConfig& tokenizer_config() const { return tokenizer_; }
  const std::optional<PoolingConfig>& pooling_config() const { return pooling_; }
  // The vocabulary in id order (BERT kind only; built once at open from the stored tokens).
  const std::vector<std::string>& vocab() const { return vocab_; }

  // kind() == kWord2Vec
  const Word2VecInfo& word2vec_info() const { return w2v_; }

  // Free-form provenance from the converter (source path, source format, bertc version).
  const std::string& metadata_json() const { return metadata_json_; }

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find(std::string_view name) const;   // nullptr when absent
  const TensorInfo& tensor(std::string_view name) const; // throws naming the file and tensor

  // Drops the whole pages inside [data, data + nbytes) of the mapping from this process's resident
  // set (madvise MADV_DONTNEED); the mapping stays valid, a later read faults them back in from
  // the file. For weights a backend has copied (packed, widened, uploaded), so they are not held
  // twice. Ranges outside the mapping are ignored.
  void release_pages(const void* data, size_t nbytes) const;

  // Recomputes every tensor checksum; throws on the first mismatch.
  void verify_checksums() const;
  // A short stable identity of the weights (hash of the tensor table's checksums), for indexes.
  std::string fingerprint() const;

 private:
  ModelFile() = default;
  struct Mapping;
  std::unique_ptr<Mapping> map_;
  std::string path_;
  uint32_t version_ = 0;
  ModelKind kind_ = ModelKind::kBert;
  uint64_t file_nbytes_ = 0;
  BertConfig bert_;
  TokenizerConfig tokenizer_;
  std::optional<PoolingConfig> pooling_;
  std::vector<std::string> vocab_;
  Word2VecInfo w2v_;
  std::string metadata_json_;
  std::vector<TensorInfo> tensors_;
};

// Canonical bertc tensor names are the modern Hugging Face BertModel names without the "bert."
// prefix ("embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight",
// "pooler.dense.weight"); weights/bert_names.* maps legacy names onto them. Linear weights keep
// the HF [out, in] layout.

}  // namespace bertc
