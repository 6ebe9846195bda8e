// WordVectors: word lookup and sentence vectors over a word2vec .bertc file (tensor layout in
// weights/word2vec.h). Opening is O(1): the stored hash table is probed in place in the mapping,
// and every slot and offset read is bounds-checked, so a corrupt file throws instead of reading
// out of bounds. Checked by tests/app/word_vectors_test.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/dtype.h"

namespace bertc {

class ModelFile;

class WordVectors {
 public:
  // ModelFile::open has validated the tensor set (weights/word2vec.h: validate_word2vec); this
  // throws when the file is not a word2vec model.
  explicit WordVectors(std::shared_ptr<const ModelFile> file);
  static WordVectors open(const std::string& path);

  int64_t count() const { return count_; }
  int64_t dim() const { return dim_; }
  bool normalized() const { return normalized_; }
  DType dtype() const { return dtype_; }
  const ModelFile& file() const { return *file_; }

  // Row of `word` (exact bytes), or -1.
  int64_t find(std::string_view word) const;
  std::string_view word(int64_t row) const;
  void vector(int64_t row, float* out) const;       // out[dim] = row's vector, as float32
  void add_vector(int64_t row, double* acc) const;  // acc[dim] += row's vector

 private:
  std::shared_ptr<const ModelFile> file_;
  int64_t count_ = 0, dim_ = 0;
  bool normalized_ = false;
  DType dtype_ = DType::kF32;
  const void* vectors_ = nullptr;  // [count, dim]
  std::span<const uint64_t> offsets_;  // [count + 1]
  std::span<const char> bytes_;
  std::span<const uint32_t> table_;
};

// Words of a text: maximal runs of bytes that are not ASCII whitespace or ASCII punctuation;
// an apostrophe or hyphen between two word bytes stays inside the word ("don't", "well-known").
// Non-ASCII bytes (UTF-8) are word bytes, so words in any script are kept whole.
std::vector<std::string_view> split_words(std::string_view text);

struct SentenceStats {
  int64_t words = 0;  // words in the text
  int64_t found = 0;  // vectors averaged (a phrase such as New_York counts once)
  int64_t oov = 0;    // words found neither alone nor inside a phrase
};

// The average of the vectors of the text's words, written to out[dim]. At each position the
// longest phrase of up to 3 words joined with '_' is tried first (GoogleNews has New_York); each
// candidate is looked up exactly, then in lower case, then capitalised (ASCII case mapping).
// A text with no known word gives a zero vector (never NaN); the caller warns.
SentenceStats sentence_vector(const WordVectors& w2v, std::string_view text, float* out);

}  // namespace bertc
