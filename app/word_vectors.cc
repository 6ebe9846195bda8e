// WordVectors lookup over the mapped tensors and sentence averaging (see app/word_vectors.h).
#include "app/word_vectors.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "weights/model_file.h"
#include "weights/word2vec.h"

namespace bertc {

WordVectors::WordVectors(std::shared_ptr<const ModelFile> file) : file_(std::move(file)) {
  BERTC_CHECK(file_->kind() == ModelKind::kWord2Vec, file_->path(),
              ": not a word2vec model file (convert one with `bertc convert VECTORS.bin`)");
  const Word2VecInfo& info = file_->word2vec_info();
  count_ = info.count;
  dim_ = info.dim;
  normalized_ = info.normalized;
  const TensorInfo& vectors = file_->tensor(kW2vVectors);
  dtype_ = vectors.dtype;
  vectors_ = vectors.data;
  offsets_ = file_->tensor(kW2vWordOffsets).as<uint64_t>();
  bytes_ = file_->tensor(kW2vWordBytes).as<char>();
  table_ = file_->tensor(kW2vHashTable).as<uint32_t>();
}

WordVectors WordVectors::open(const std::string& path) { return WordVectors(ModelFile::open(path)); }

std::string_view WordVectors::word(int64_t row) const {
  BERTC_CHECK(row >= 0 && row < count_, file_->path(), ": word row ", row, " out of range [0, ",
              count_, ")");
  uint64_t a = offsets_[row], b = offsets_[row + 1];
  BERTC_CHECK(a <= b && b <= bytes_.size(), file_->path(), ": corrupt word offsets at row ", row);
  return {bytes_.data() + a, static_cast<size_t>(b - a)};
}

int64_t WordVectors::find(std::string_view w) const {
  const size_t mask = table_.size() - 1;
  size_t i = word2vec_hash(w) & mask;
  // Validation guarantees an empty slot exists; the probe bound only guards a corrupt table.
  for (size_t probes = 0; probes < table_.size(); ++probes, i = (i + 1) & mask) {
    uint32_t slot = table_[i];
    if (slot == 0) return -1;
    BERTC_CHECK(slot <= count_, file_->path(), ": corrupt hash table slot ", i);
    if (word(slot - 1) == w) return slot - 1;
  }
  return -1;
}

void WordVectors::vector(int64_t row, float* out) const {
  BERTC_CHECK(row >= 0 && row < count_, file_->path(), ": word row ", row, " out of range");
  if (dtype_ == DType::kF32) {
    std::memcpy(out, static_cast<const float*>(vectors_) + row * dim_, dim_ * sizeof(float));
  } else {
    const uint16_t* src = static_cast<const uint16_t*>(vectors_) + row * dim_;
    for (int64_t d = 0; d < dim_; ++d) out[d] = f16_to_f32(src[d]);
  }
}

void WordVectors::add_vector(int64_t row, double* acc) const {
  BERTC_CHECK(row >= 0 && row < count_, file_->path(), ": word row ", row, " out of range");
  if (dtype_ == DType::kF32) {
    const float* src = static_cast<const float*>(vectors_) + row * dim_;
    for (int64_t d = 0; d < dim_; ++d) acc[d] += src[d];
  } else {
    const uint16_t* src = static_cast<const uint16_t*>(vectors_) + row * dim_;
    for (int64_t d = 0; d < dim_; ++d) acc[d] += f16_to_f32(src[d]);
  }
}

namespace {

bool is_ascii_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool is_ascii_punct(unsigned char c) {
  return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) ||
         (c >= 0x7b && c <= 0x7e);
}
bool is_word_byte(unsigned char c) { return !is_ascii_space(c) && !is_ascii_punct(c) && c != 0; }

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
char ascii_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

// Looks `words` up joined with '_': exactly, then lower case, then each part capitalised.
int64_t find_phrase(const WordVectors& w2v, std::span<const std::string_view> words, std::string& key) {
  key.clear();
  for (size_t i = 0; i < words.size(); ++i) {
    if (i) key += '_';
    key += words[i];
  }
  if (int64_t row = w2v.find(key); row >= 0) return row;
  std::string lower = key;
  for (char& c : lower) c = ascii_lower(c);
  if (lower != key)
    if (int64_t row = w2v.find(lower); row >= 0) return row;
  std::string cap = lower;
  bool start = true;
  for (char& c : cap) {
    if (start) c = ascii_upper(c);
    start = c == '_';
  }
  if (cap != key && cap != lower)
    if (int64_t row = w2v.find(cap); row >= 0) return row;
  return -1;
}

}  // namespace

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> out;
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !is_word_byte(byte(i))) ++i;
    size_t j = i;
    while (j < text.size()) {
      if (is_word_byte(byte(j))) {
        ++j;
      } else if ((text[j] == '\'' || text[j] == '-') && j > i && j + 1 < text.size() &&
                 is_word_byte(byte(j + 1))) {
        ++j;
      } else {
        break;
      }
    }
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

SentenceStats sentence_vector(const WordVectors& w2v, std::string_view text, float* out) {
  constexpr size_t kMaxPhraseWords = 3;
  std::vector<std::string_view> words = split_words(text);
  std::vector<double> acc(static_cast<size_t>(w2v.dim()), 0.0);
  SentenceStats stats;
  stats.words = static_cast<int64_t>(words.size());
  std::string key;
  for (size_t i = 0; i < words.size();) {
    size_t n = std::min(kMaxPhraseWords, words.size() - i);
    int64_t row = -1;
    for (; n >= 1; --n) {
      row = find_phrase(w2v, std::span(words).subspan(i, n), key);
      if (row >= 0) break;
    }
    if (row >= 0) {
      w2v.add_vector(row, acc.data());
      ++stats.found;
      i += n;
    } else {
      ++stats.oov;
      ++i;
    }
  }
  double scale = stats.found ? 1.0 / static_cast<double>(stats.found) : 0.0;
  for (int64_t d = 0; d < w2v.dim(); ++d) out[d] = static_cast<float>(acc[d] * scale);
  return stats;
}

}  // namespace bertc
