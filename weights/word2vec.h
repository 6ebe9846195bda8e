// word2vec files -> .bertc (kind word2vec): a one-pass streaming reader for Google's binary format
// and the text format (with or without the `count dim` header; GloVe has none), the converter, and
// the validation of a word2vec tensor set. Checked by tests/weights/word2vec_test.cc and the fuzzer
// tests/fuzz/word2vec_fuzz.cc.
//
// Tensors of a word2vec .bertc file (V words, D dims, C hash slots, a power of two >= 2V):
//   word2vec.vectors       [V, D]   f32 | f16   row r is the vector of word r (L2-normalised when
//                                              Word2VecInfo::normalized)
//   word2vec.word_offsets  [V + 1]  u64        word r is word_bytes[offsets[r], offsets[r + 1])
//   word2vec.word_bytes    [B]      u8         every word's bytes, concatenated, as in the source
//   word2vec.hash_table    [C]      u32        open addressing, linear probing from
//                                              word2vec_hash(word) & (C - 1); slot = row + 1, 0 empty
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/dtype.h"

namespace bertc {

struct TensorInfo;
struct Word2VecInfo;

inline constexpr std::string_view kW2vVectors = "word2vec.vectors";
inline constexpr std::string_view kW2vWordOffsets = "word2vec.word_offsets";
inline constexpr std::string_view kW2vWordBytes = "word2vec.word_bytes";
inline constexpr std::string_view kW2vHashTable = "word2vec.hash_table";

// Limits that turn a corrupt header or a wrong file into an error instead of a huge allocation.
inline constexpr int64_t kW2vMaxDim = 1 << 16;
inline constexpr size_t kW2vMaxWordBytes = 1 << 16;

// FNV-1a, 64 bit: part of the file format (the stored table is probed with it), never change it.
inline uint64_t word2vec_hash(std::string_view word) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : word) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

struct Word2VecConvertOptions {
  int64_t limit = 0;               // keep only the first N records of the file (0: all)
  DType dtype = DType::kF32;       // f32 or f16 storage of the vectors
  bool normalize = false;          // store L2-normalised rows
  bool allow_nonfinite = false;    // keep NaN/Inf values instead of rejecting the file
  bool quiet = false;              // no progress or summary on stderr
};

// What a conversion read and wrote, for the summary line and the tests.
struct Word2VecConvertStats {
  bool binary = false;
  int64_t records = 0;     // records read (after --limit)
  int64_t words = 0;       // rows written: records minus duplicates
  int64_t duplicates = 0;  // later records of a word already seen (the first one is kept)
  int64_t nonfinite = 0;   // NaN/Inf values kept under allow_nonfinite
  int64_t dim = 0;
};

// Converts a word2vec binary or text file at `input` into a .bertc file at `output` (written to
// OUTPUT.tmp and renamed; nothing is left behind on failure). Throws bertc::Error naming the input.
Word2VecConvertStats convert_word2vec(const std::string& input, const std::string& output,
                                      const Word2VecConvertOptions& options);

// One record of a word2vec file as the reader yields it; both views stay valid until next().
struct Word2VecRecord {
  std::string_view word;
  const float* values = nullptr;  // [dim]
};

// Streams records from a word2vec file, binary or text (told apart by content: a text file's
// first record is a word followed by exactly `dim` numbers on one line). One pass, O(dim + word)
// memory. Every malformed input throws bertc::Error starting with `name`.
class Word2VecReader {
 public:
  Word2VecReader(std::FILE* file, std::string name);

  bool binary() const { return binary_; }
  int64_t dim() const { return dim_; }
  int64_t declared_count() const { return count_; }  // from the header; -1 when there is none
  int64_t records_read() const { return records_; }

  // The next record, or false at the end of the file (after checking the header's count).
  bool next(Word2VecRecord& record);

 private:
  bool fill();  // refills buf_ keeping [pos_, end_); false when nothing more could be read
  int peek();
  bool read_line(std::string& line);  // without the '\n'; false at EOF with nothing read
  bool next_binary(Word2VecRecord& record);
  bool next_text(Word2VecRecord& record);
  void parse_text_values(std::string_view rest, int64_t line_number);
  std::string record_label() const;  // "record 12 of 3000000" / "line 12"

  std::FILE* file_;
  std::string name_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  bool binary_ = false;
  int64_t dim_ = 0;
  int64_t count_ = -1;
  int64_t records_ = 0;
  int64_t line_ = 0;  // text: lines consumed so far (header included)
  std::string word_;
  std::string pending_;  // text: the first record's line, read during format detection
  bool has_pending_ = false;
  std::vector<float> values_;
};

// Checks a word2vec file's tensor set against its Word2VecInfo (names, dtypes, shapes, the first
// and last offsets, the table size; no unknown tensors) without touching per-word data, so that
// opening stays O(1); app/word_vectors.cc bounds-checks each slot and offset it reads instead.
// `find` looks a tensor up by name in the file's table (nullptr when absent) of `num_tensors`
// entries; `file` names the file in messages. Called by ModelFile::open for kind word2vec.
void validate_word2vec(const Word2VecInfo& info, size_t num_tensors,
                       const std::function<const TensorInfo*(std::string_view)>& find,
                       const std::string& file);

}  // namespace bertc
