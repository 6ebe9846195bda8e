// WordPiece longest-match-first. Each piece is found with one pass that hashes every prefix of the
// rest of the word (FNV-1a extends byte by byte) and then probes from the longest prefix down, so
// no substring is copied or rehashed. Most words are whole vocabulary entries: one probe.
#include "tokenizer/wordpiece.h"

#include <algorithm>
#include <string>

#include "common/utf8.h"

namespace bertc {

WordPiece::WordPiece(const Vocab& vocab, int32_t unk_id) : unk_id_(unk_id) {
  std::vector<std::string_view> all_keys, cont_keys;
  std::vector<int32_t> all_ids, cont_ids;
  for (size_t id = 0; id < vocab.size(); ++id) {
    const std::string& t = vocab.token(static_cast<int32_t>(id));
    all_keys.push_back(t);
    all_ids.push_back(static_cast<int32_t>(id));
    if (t.size() > 2 && t[0] == '#' && t[1] == '#') {
      cont_keys.push_back(std::string_view(t).substr(2));
      cont_ids.push_back(static_cast<int32_t>(id));
    }
  }
  // Its own whole-token table (not a pointer to the Vocab's, which moves with the Tokenizer).
  initial_.build(all_keys, all_ids);
  continuation_.build(cont_keys, cont_ids);
}

void WordPiece::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  // Bytes >= code points, so only long words need counting.
  if (word.size() > kMaxWordCodePoints && count_code_points(word) > kMaxWordCodePoints) {
    out.push_back(unk_id_);
    return;
  }
  // Fast path: the whole word is a token.
  if (const int32_t id = initial_.find(word); id >= 0) {
    out.push_back(id);
    return;
  }
  const size_t out_begin = out.size();
  uint64_t prefix_hash[kMaxWordCodePoints * 4 + 1];  // kMaxWordCodePoints code points, 4 bytes each
  size_t start = 0;
  while (start < word.size()) {
    const TokenTable& table = start == 0 ? initial_ : continuation_;
    const size_t max_len = std::min(word.size() - start, table.max_key_bytes());
    uint64_t h = TokenTable::kHashSeed;
    for (size_t len = 1; len <= max_len; ++len) {
      h = TokenTable::hash_step(h, static_cast<unsigned char>(word[start + len - 1]));
      prefix_hash[len] = h;
    }
    int32_t id = -1;
    size_t len = max_len;
    for (; len > 0; --len) {
      const size_t end = start + len;
      // Pieces end on code point boundaries, as Python slices str by characters.
      if (end < word.size() && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) continue;
      id = table.find_hashed(word.substr(start, len), prefix_hash[len]);
      if (id >= 0) break;
    }
    if (id < 0) {  // an unmatched part makes the whole word [UNK]
      out.resize(out_begin);
      out.push_back(unk_id_);
      return;
    }
    out.push_back(id);
    start += len;
  }
}

}  // namespace bertc
