// BERT's BasicTokenizer: clean-up, CJK spacing, whitespace split, lower-casing (Python str.lower
// rules), accent stripping (NFD, drop Mn) and punctuation split, producing the words WordPiece
// sees. Character properties come from utf8proc (Unicode 15.0) with the code points assigned in
// 15.0 treated as unassigned, so results follow Unicode 14.0 like the references in
// tests/data/tokenizer (Python 3.11 unicodedata 14.0.0). Tested in tests/tokenizer/normalize_test.cc.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bertc {

struct NormalizeOptions {
  bool lower_case = true;
  bool strip_accents = true;
  bool chinese_chars = true;  // put spaces around CJK Unified Ideographs
};

// Words back to back in one buffer, so splitting a text allocates nothing once the buffers grew.
struct WordList {
  std::string bytes;
  std::vector<size_t> ends;  // word i is bytes[ends[i-1], ends[i])

  size_t size() const { return ends.size(); }
  std::string_view operator[](size_t i) const {
    const size_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(bytes).substr(begin, ends[i] - begin);
  }
  void clear() {
    bytes.clear();
    ends.clear();
  }
};

// Appends the words of `text` (valid UTF-8; callers validate first) to `out`.
void split_words(std::string_view text, const NormalizeOptions& options, WordList& out);

// Character classes of the pipeline above, exposed for tests (Unicode 14.0 semantics).
bool is_unassigned_before_15(char32_t cp);  // assigned in Unicode 15.0, so Cn for the references
bool is_bert_punctuation(char32_t cp);     // Unicode P* or any ASCII non-alphanumeric printable
bool is_cjk_ideograph(char32_t cp);

}  // namespace bertc
