// The public tokenizer API: Hugging Face BertTokenizer behaviour (BasicTokenizer + WordPiece,
// [CLS]/[SEP] framing, longest_first truncation) on a Vocab. Normalisation: tokenizer/normalize.h;
// WordPiece: tokenizer/wordpiece.h. Checked against tests/data/tokenizer in tests/tokenizer/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/normalize.h"
#include "tokenizer/vocab.h"
#include "tokenizer/wordpiece.h"

namespace bertc {

class ModelFile;

struct TokenizerOptions {
  bool lower_case = true;
  bool strip_accents = true;
  bool chinese_chars = true;
  bool special_literals = true;  // "[CLS]" typed in text -> 101, as HF's fast tokenizer
  bool replace_invalid_utf8 = false;  // false: invalid UTF-8 throws, naming the byte offset
  // Special token strings; each must be in the vocab.
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string unk_token = "[UNK]";
  std::string mask_token = "[MASK]";
};

struct Encoding {
  std::vector<int32_t> ids;       // [T] with [CLS] and [SEP]
  std::vector<int32_t> type_ids;  // [T] 0 for the first segment, 1 for the second
  int64_t truncated_tokens = 0;   // wordpieces dropped to fit max_length
};

class Tokenizer {
 public:
  Tokenizer(Vocab vocab, TokenizerOptions options);
  // Vocab and settings stored in a .bertc (tokenizer_config.json at conversion).
  static Tokenizer from_model(const ModelFile& model);

  Tokenizer(Tokenizer&&) = default;

  // Wordpiece ids of `text` without special tokens, appended to `out`.
  void wordpieces(std::string_view text, std::vector<int32_t>& out) const;
  // [CLS] text [SEP], the wordpieces cut to max_length - 2 (max_length <= 0: no limit).
  Encoding encode(std::string_view text, int64_t max_length) const;
  // [CLS] a [SEP] b [SEP]; over max_length, pieces are dropped from the end of the longer side
  // (HF "longest_first"; b on ties).
  Encoding encode_pair(std::string_view a, std::string_view b, int64_t max_length) const;

  int32_t cls_id() const { return cls_id_; }
  int32_t sep_id() const { return sep_id_; }
  int32_t pad_id() const { return pad_id_; }
  int32_t unk_id() const { return unk_id_; }
  int32_t mask_id() const { return mask_id_; }
  const Vocab& vocab() const { return vocab_; }
  const TokenizerOptions& options() const { return options_; }

  // How input text is read, independent of the model's own settings (CLI flags).
  void set_special_literals(bool on) { options_.special_literals = on; }
  void set_replace_invalid_utf8(bool on) { options_.replace_invalid_utf8 = on; }

 private:
  void wordpieces_valid(std::string_view text, std::vector<int32_t>& out) const;
  void wordpieces_segment(std::string_view text, std::vector<int32_t>& out) const;

  Vocab vocab_;
  TokenizerOptions options_;
  NormalizeOptions normalize_;
  int32_t cls_id_, sep_id_, pad_id_, unk_id_, mask_id_;
  WordPiece wordpiece_;
  std::vector<std::pair<std::string, int32_t>> literals_;  // special strings matched in text
};

}  // namespace bertc
