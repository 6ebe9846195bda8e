// libFuzzer target for the tokenizer over arbitrary bytes (ASan/UBSan build, see tests/fuzz/
// CMakeLists.txt). The first byte picks the options; the rest is the text, also split in two for
// encode_pair. Invalid UTF-8 must throw bertc::Error exactly when replacement is off, and every id
// must be in the vocabulary.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "tokenizer/tokenizer.h"
#include "common/utf8.h"

namespace {

// A small self-contained vocabulary with words, continuations, punctuation and non-ASCII
// tokens, so the fuzzer needs no data files.
bertc::Vocab fuzz_vocab() {
  std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  for (char c = 'a'; c <= 'z'; ++c) {
    tokens.emplace_back(1, c);
    tokens.push_back(std::string("##") + c);
  }
  for (const char* t : {"the", "bank", "river", "##ing", "un", "##able", ".", ",", "[", "]",
                        "#", "é", "ς", "ο", "##ος", "中", "か", "ᄋ", "##ᅡ", "ﬁ", "€", "##°"}) {
    tokens.emplace_back(t);
  }
  return bertc::Vocab::from_tokens(std::move(tokens), "fuzz-vocab");
}

const bertc::Tokenizer& tokenizer(unsigned flags) {
  static const std::vector<bertc::Tokenizer> all = [] {
    std::vector<bertc::Tokenizer> v;
    for (unsigned f = 0; f < 32; ++f) {
      bertc::TokenizerOptions o;
      o.lower_case = f & 1;
      o.strip_accents = f & 2;
      o.chinese_chars = f & 4;
      o.special_literals = f & 8;
      o.replace_invalid_utf8 = f & 16;
      v.emplace_back(fuzz_vocab(), o);
    }
    return v;
  }();
  return all[flags & 31];
}

void check_ids(const bertc::Tokenizer& tok, const std::vector<int32_t>& ids) {
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= tok.vocab().size()) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bertc::Tokenizer& tok = tokenizer(data[0]);
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool invalid = static_cast<bool>(bertc::find_invalid_utf8(text));
  const bool replace = tok.options().replace_invalid_utf8;
  try {
    const bertc::Encoding e = tok.encode(text, 64);
    if (invalid && !replace) __builtin_trap();  // should have thrown
    check_ids(tok, e.ids);
    if (e.ids.size() > 64 || e.ids.size() != e.type_ids.size()) __builtin_trap();
    // Cut on a code point boundary so that both halves are valid when the text is.
    size_t half = text.size() / 2;
    while (half > 0 && (static_cast<unsigned char>(text[half]) & 0xC0) == 0x80) --half;
    const bertc::Encoding p = tok.encode_pair(text.substr(0, half), text.substr(half), 0);
    check_ids(tok, p.ids);
  } catch (const bertc::Error&) {
    if (!invalid || replace) __builtin_trap();  // only invalid UTF-8 without replacement fails
  }
  return 0;
}
