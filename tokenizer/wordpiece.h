// WordPiece: greedy longest-match-first segmentation of one word into vocabulary pieces, "##"
// marking continuations; a word with an unmatched part or over kMaxWordCodePoints becomes [UNK].
// Checked against tests/data/tokenizer (cases.jsonl, max_chars_100_vs_200.jsonl).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace bertc {

class WordPiece {
 public:
  // Hugging Face's max_input_chars_per_word (Google's original uses 200).
  static constexpr size_t kMaxWordCodePoints = 100;

  WordPiece(const Vocab& vocab, int32_t unk_id);

  // Appends the pieces of `word` (valid UTF-8, no whitespace) to `out`.
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;

 private:
  TokenTable initial_;       // every token, matched at the start of a word
  TokenTable continuation_;    // "##x" tokens keyed by "x"
  int32_t unk_id_;
};

}  // namespace bertc
