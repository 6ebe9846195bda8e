// Tokenizer: UTF-8 checks, special-token literals, BasicTokenizer + WordPiece per segment, and
// [CLS]/[SEP] framing with truncation.
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <utility>

#include "common/error.h"
#include "common/utf8.h"
#include "weights/model_file.h"

namespace bertc {
namespace {

int32_t checked_special_id(const Vocab& vocab, const std::string& token, const char* role) {
  BERTC_CHECK(!token.empty(), vocab.source_name(), ": the ", role, " token is empty");
  const int32_t id = vocab.id(token);
  BERTC_CHECK(id >= 0, vocab.source_name(), ": the ", role, " token '", token,
              "' is not in the vocabulary");
  return id;
}

}  // namespace

Tokenizer::Tokenizer(Vocab vocab, TokenizerOptions options)
    : vocab_(std::move(vocab)),
      options_(std::move(options)),
      normalize_{options_.lower_case, options_.strip_accents, options_.chinese_chars},
      cls_id_(checked_special_id(vocab_, options_.cls_token, "[CLS]")),
      sep_id_(checked_special_id(vocab_, options_.sep_token, "[SEP]")),
      pad_id_(checked_special_id(vocab_, options_.pad_token, "[PAD]")),
      unk_id_(checked_special_id(vocab_, options_.unk_token, "[UNK]")),
      mask_id_(checked_special_id(vocab_, options_.mask_token, "[MASK]")),
      wordpiece_(vocab_, unk_id_) {
  for (const std::string* t : {&options_.cls_token, &options_.sep_token, &options_.pad_token,
                               &options_.unk_token, &options_.mask_token}) {
    literals_.emplace_back(*t, vocab_.id(*t));
  }
  // Longest first, so a literal that is a prefix of another never hides it.
  std::stable_sort(literals_.begin(), literals_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (const auto& literal : literals_) {
    if (literal_starts_.find(literal.first[0]) == std::string::npos) literal_starts_ += literal.first[0];
  }
}

Tokenizer Tokenizer::from_model(const ModelFile& model) {
  const TokenizerConfig& config = model.tokenizer_config();
  TokenizerOptions options;
  options.lower_case = config.do_lower_case;
  options.strip_accents = config.strip_accents.value_or(config.do_lower_case);
  options.chinese_chars = config.tokenize_chinese_chars;
  options.cls_token = config.cls_token;
  options.sep_token = config.sep_token;
  options.pad_token = config.pad_token;
  options.unk_token = config.unk_token;
  options.mask_token = config.mask_token;
  return Tokenizer(Vocab::from_tokens(model.vocab(), model.path()), std::move(options));
}

void Tokenizer::wordpieces(std::string_view text, std::vector<int32_t>& out) const {
  const Utf8Problem bad = find_invalid_utf8(text);
  if (!bad) {
    wordpieces_valid(text, out);
    return;
  }
  BERTC_CHECK(options_.replace_invalid_utf8, "invalid UTF-8 at byte offset ", bad.offset_bytes,
              " (", bad.reason, ")");
  // U+FFFD in place of each bad sequence; BERT's clean-up then drops it, as Python would after
  // decoding with errors="replace".
  wordpieces_valid(replace_invalid_utf8(text), out);
}

void Tokenizer::wordpieces_valid(std::string_view text, std::vector<int32_t>& out) const {
  if (!options_.special_literals) {
    wordpieces_segment(text, out);
    return;
  }
  // HF's fast tokenizer splits the raw text on exact, case-sensitive special-token strings
  // (added tokens with normalized=false) before normalising each piece between them.
  size_t segment_begin = 0;
  size_t i = 0;
  while ((i = text.find_first_of(literal_starts_, i)) != std::string_view::npos) {
    const std::pair<std::string, int32_t>* hit = nullptr;
    for (const auto& literal : literals_) {
      if (text.compare(i, literal.first.size(), literal.first) == 0) {
        hit = &literal;
        break;
      }
    }
    if (!hit) {
      ++i;
      continue;
    }
    wordpieces_segment(text.substr(segment_begin, i - segment_begin), out);
    out.push_back(hit->second);
    i += hit->first.size();
    segment_begin = i;
  }
  wordpieces_segment(text.substr(segment_begin), out);
}

void Tokenizer::wordpieces_segment(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  thread_local WordList words;
  words.clear();
  split_words(text, normalize_, words);
  for (size_t w = 0; w < words.size(); ++w) wordpiece_.encode_word(words[w], out);
  // Keep the buffers for the next call, unless one huge input grew them past a few MB.
  constexpr size_t kKeepBytes = size_t(4) << 20;
  if (words.bytes.capacity() > kKeepBytes) words = WordList{};
}

Encoding Tokenizer::encode(std::string_view text, int64_t max_length) const {
  BERTC_CHECK(max_length <= 0 || max_length >= 2, "max_length ", max_length,
              " leaves no room for [CLS] and [SEP] (need at least 2)");
  std::vector<int32_t> pieces;
  wordpieces(text, pieces);
  Encoding e;
  if (max_length > 0 && static_cast<int64_t>(pieces.size()) > max_length - 2) {
    e.truncated_tokens = static_cast<int64_t>(pieces.size()) - (max_length - 2);
    pieces.resize(static_cast<size_t>(max_length - 2));
  }
  e.ids.reserve(pieces.size() + 2);
  e.ids.push_back(cls_id_);
  e.ids.insert(e.ids.end(), pieces.begin(), pieces.end());
  e.ids.push_back(sep_id_);
  e.type_ids.assign(e.ids.size(), 0);
  return e;
}

Encoding Tokenizer::encode_pair(std::string_view a, std::string_view b, int64_t max_length) const {
  BERTC_CHECK(max_length <= 0 || max_length >= 3, "max_length ", max_length,
              " leaves no room for [CLS] and two [SEP] (need at least 3)");
  std::vector<int32_t> pa, pb;
  wordpieces(a, pa);
  wordpieces(b, pb);
  Encoding e;
  if (max_length > 0) {
    const size_t budget = static_cast<size_t>(max_length - 3);
    size_t na = pa.size(), nb = pb.size();
    if (na + nb > budget) {
      // HF tokenizers (Rust) TruncationStrategy::LongestFirst: the shorter side keeps its length
      // if the longer one can take the rest; otherwise both get half, the extra odd piece going
      // to the side that was longer (to b when they were equal).
      const bool a_longer = na > nb;
      size_t shorter = a_longer ? nb : na;
      size_t longer;
      if (2 * shorter <= budget) {
        longer = budget - shorter;
      } else {
        shorter = budget / 2;
        longer = shorter + budget % 2;
      }
      const size_t keep_a = a_longer ? longer : shorter;
      const size_t keep_b = a_longer ? shorter : longer;
      e.truncated_tokens = static_cast<int64_t>(na - keep_a + nb - keep_b);
      pa.resize(keep_a);
      pb.resize(keep_b);
    }
  }
  e.ids.reserve(pa.size() + pb.size() + 3);
  e.ids.push_back(cls_id_);
  e.ids.insert(e.ids.end(), pa.begin(), pa.end());
  e.ids.push_back(sep_id_);
  e.type_ids.assign(e.ids.size(), 0);
  e.ids.insert(e.ids.end(), pb.begin(), pb.end());
  e.ids.push_back(sep_id_);
  e.type_ids.resize(e.ids.size(), 1);
  return e;
}

}  // namespace bertc
