// Vocab loading (vocab.txt or a token list) and the TokenTable hash.
#include "tokenizer/vocab.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "common/error.h"
#include "common/utf8.h"

namespace bertc {

void TokenTable::build(const std::vector<std::string_view>& keys, const std::vector<int32_t>& ids) {
  size_t capacity = 16;
  while (capacity < 2 * keys.size()) capacity *= 2;  // load factor <= 0.5 keeps probes short
  slots_.assign(capacity, Slot{});
  filter_.assign((size_t(1) << kFilterLog2Bits) / 64, 0);
  mask_ = capacity - 1;
  max_key_bytes_ = 0;
  arena_.clear();
  for (const auto& k : keys) arena_ += k;
  BERTC_CHECK(arena_.size() <= UINT32_MAX, "vocabulary: ", arena_.size(),
              " bytes of tokens is more than 4 GB");
  uint32_t offset = 0;
  for (size_t k = 0; k < keys.size(); ++k) {
    const uint64_t h = hash(keys[k]);
    size_t i = slot_of(h);
    while (slots_[i].id >= 0) i = (i + 1) & mask_;
    const auto nbytes = static_cast<uint32_t>(keys[k].size());
    slots_[i] = Slot{static_cast<uint32_t>(h >> 32), ids[k], offset, nbytes};
    filter_[filter_bit(h) >> 6] |= uint64_t(1) << (filter_bit(h) & 63);
    offset += nbytes;
    if (keys[k].size() > max_key_bytes_) max_key_bytes_ = keys[k].size();
  }
}

Vocab Vocab::from_tokens(std::vector<std::string> tokens, std::string source_name) {
  BERTC_CHECK(!tokens.empty(), source_name, ": the vocabulary is empty");
  BERTC_CHECK(tokens.size() < size_t(INT32_MAX), source_name, ": ", tokens.size(),
              " tokens is more than int32 ids can address");
  Vocab v;
  v.tokens_ = std::move(tokens);
  v.source_ = std::move(source_name);
  std::vector<std::string_view> keys;
  std::vector<int32_t> ids;
  keys.reserve(v.tokens_.size());
  ids.reserve(v.tokens_.size());
  for (size_t i = 0; i < v.tokens_.size(); ++i) {
    const std::string& t = v.tokens_[i];
    // "line" is the vocab.txt line, which is also what a converted model's token list came from.
    BERTC_CHECK(!t.empty(), v.source_, ": line ", i + 1, " (id ", i, ") is an empty token");
    const Utf8Problem bad = find_invalid_utf8(t);
    BERTC_CHECK(!bad, v.source_, ": line ", i + 1, " (id ", i, ") is not valid UTF-8 (",
                bad.reason, " at byte ", bad.offset_bytes, ")");
    keys.push_back(t);
    ids.push_back(static_cast<int32_t>(i));
  }
  v.table_.build(keys, ids);
  // Duplicates would make ids ambiguous (HF's loader silently keeps the last one); find them by
  // looking each token up: a duplicate finds its first occurrence instead of itself.
  for (size_t i = 0; i < v.tokens_.size(); ++i) {
    const int32_t first = v.table_.find(v.tokens_[i]);
    BERTC_CHECK(first == static_cast<int32_t>(i), v.source_, ": line ", i + 1, " duplicates line ",
                first + 1, " ('", v.tokens_[i], "')");
  }
  return v;
}

Vocab Vocab::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  BERTC_CHECK(in, path, ": cannot open vocabulary file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  BERTC_CHECK(!in.bad(), path, ": read error");
  const std::string text = std::move(buffer).str();
  std::vector<std::string> tokens;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();  // a last line without a newline
    size_t stop = end;
    if (stop > start && text[stop - 1] == '\r') --stop;  // CRLF files
    tokens.emplace_back(text, start, stop - start);
    start = end + 1;
  }
  return from_tokens(std::move(tokens), path);
}

const std::string& Vocab::token(int32_t id) const {
  BERTC_CHECK(id >= 0 && static_cast<size_t>(id) < tokens_.size(), source_, ": token id ", id,
              " is out of range [0, ", tokens_.size(), ")");
  return tokens_[static_cast<size_t>(id)];
}

}  // namespace bertc
