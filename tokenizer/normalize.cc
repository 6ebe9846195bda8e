// BasicTokenizer, in google-research/bert tokenization.py's order: _clean_text, _tokenize_chinese_chars,
// whitespace_tokenize, then per whitespace token lower() + _run_strip_accents and _run_split_on_punc.
// ASCII tokens take a table-driven path; a token with any other character is redone by the
// general path, which works on code points with utf8proc. Expected results: tests/data/tokenizer.
#include "tokenizer/normalize.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <iterator>

#include "common/utf8.h"

namespace bertc {
namespace {

// Code points assigned in Unicode 15.0 (utf8proc 2.8's tables) but unassigned in 14.0, the
// version the references were made with. Treating them as Cn (kept, not punctuation, no case, no
// decomposition, combining class 0) is the only difference between the two versions that this
// pipeline can see: no category, lower-case mapping or decomposition of a code point assigned in
// 14.0 changed in 15.0 (checked by comparing every code point of utf8proc 2.8 against Python
// 3.11's unicodedata 14.0.0).
struct Range {
  char32_t first, last;
};
constexpr Range kAssignedIn15[] = {
    {0xCF3, 0xCF3}, {0xECE, 0xECE}, {0x10EFD, 0x10EFF}, {0x1123F, 0x11241}, {0x11B00, 0x11B09},
    {0x11F00, 0x11F10}, {0x11F12, 0x11F3A}, {0x11F3E, 0x11F59}, {0x1342F, 0x1342F},
    {0x13439, 0x13455}, {0x1B132, 0x1B132}, {0x1B155, 0x1B155}, {0x1D2C0, 0x1D2D3},
    {0x1DF25, 0x1DF2A}, {0x1E030, 0x1E06D}, {0x1E08F, 0x1E08F}, {0x1E4D0, 0x1E4F9},
    {0x1F6DC, 0x1F6DC}, {0x1F774, 0x1F776}, {0x1F77B, 0x1F77F}, {0x1F7D9, 0x1F7D9},
    {0x1FA75, 0x1FA77}, {0x1FA87, 0x1FA88}, {0x1FAAD, 0x1FAAF}, {0x1FABB, 0x1FABD},
    {0x1FABF, 0x1FABF}, {0x1FACE, 0x1FACF}, {0x1FADA, 0x1FADB}, {0x1FAE8, 0x1FAE8},
    {0x1FAF7, 0x1FAF8}, {0x2B739, 0x2B739}, {0x31350, 0x323AF},
};

utf8proc_category_t category(char32_t cp) {
  if (is_unassigned_before_15(cp)) return UTF8PROC_CATEGORY_CN;
  return static_cast<utf8proc_category_t>(utf8proc_category(static_cast<utf8proc_int32_t>(cp)));
}

// _clean_text drops these without leaving a space: NUL, U+FFFD and Cc/Cf other than \t \n \r.
bool is_removed(char32_t cp, utf8proc_category_t cat) {
  if (cp == 0 || cp == 0xFFFD) return true;
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF;
}

// BERT's _is_whitespace (space, \t \n \r, Zs) plus U+2028/U+2029, which Python's str.split() in
// whitespace_tokenize also splits on. The other str.split() separators are Cc, already removed.
bool is_whitespace(char32_t cp, utf8proc_category_t cat) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029 ||
         cat == UTF8PROC_CATEGORY_ZS;
}

bool is_punctuation_category(utf8proc_category_t cat) {
  return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

// Python's str.lower() Final_Sigma rule needs the Cased and Case_Ignorable properties, which
// utf8proc does not expose. These derivations match Python 3.11 for every code point (checked by
// probing str.lower() on each one). Cased = Lu/Ll/Lt, Other_Lowercase/Other_Uppercase (which all
// have case mappings, or are U+00AA/U+00BA or the squared/circled/negative Latin capitals below);
// the Lm members of Other_Lowercase are Case_Ignorable, which is checked first.
bool is_cased(char32_t cp, utf8proc_category_t cat) {
  if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT)
    return true;
  if (cat == UTF8PROC_CATEGORY_CN) return false;
  const auto c = static_cast<utf8proc_int32_t>(cp);
  if (utf8proc_tolower(c) != c || utf8proc_toupper(c) != c || utf8proc_totitle(c) != c) return true;
  return cp == 0xAA || cp == 0xBA || (cp >= 0x1F130 && cp <= 0x1F149) ||
         (cp >= 0x1F150 && cp <= 0x1F169) || (cp >= 0x1F170 && cp <= 0x1F189);
}

// Case_Ignorable = Mn, Me, Cf, Lm, Sk, or Word_Break MidLetter, MidNumLet or Single_Quote.
bool is_case_ignorable(char32_t cp, utf8proc_category_t cat) {
  switch (cat) {
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_SK:
      return true;
    default:
      break;
  }
  static constexpr char32_t kWordBreakMid[] = {0x27,   0x2E,   0x3A,   0xB7,   0x387,  0x55F,
                                               0x5F4,  0x2018, 0x2019, 0x2024, 0x2027, 0xFE13,
                                               0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A};
  return std::find(std::begin(kWordBreakMid), std::end(kWordBreakMid), cp) !=
         std::end(kWordBreakMid);
}

// U+03A3 lowers to final ς when a cased letter precedes it and none follows, skipping
// case-ignorable characters on both sides (Python's handle_capital_sigma), within `token`.
bool is_final_sigma(const std::vector<char32_t>& token, size_t i) {
  size_t j = i;
  bool cased_before = false;
  while (j > 0) {
    --j;
    const auto cat = category(token[j]);
    if (is_case_ignorable(token[j], cat)) continue;
    cased_before = is_cased(token[j], cat);
    break;
  }
  if (!cased_before) return false;
  for (j = i + 1; j < token.size(); ++j) {
    const auto cat = category(token[j]);
    if (is_case_ignorable(token[j], cat)) continue;
    return !is_cased(token[j], cat);
  }
  return true;
}

// Python str.lower(): simple mappings, plus the one unconditional multi-character mapping
// (U+0130 -> i + U+0307) and the Final_Sigma context; Python applies no language-specific rules.
void lower_case(const std::vector<char32_t>& in, std::vector<char32_t>& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    const char32_t cp = in[i];
    if (cp < 0x80) {
      out.push_back(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
    } else if (cp == 0x130) {
      out.push_back('i');
      out.push_back(0x307);
    } else if (cp == 0x3A3) {
      out.push_back(is_final_sigma(in, i) ? 0x3C2 : 0x3C3);
    } else if (is_unassigned_before_15(cp)) {
      out.push_back(cp);
    } else {
      out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
    }
  }
}

int combining_class(char32_t cp) {
  if (cp < 0x300 || is_unassigned_before_15(cp)) return 0;
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(cp))->combining_class;
}

// NFD (canonical decomposition + canonical ordering), then drop Mn: _run_strip_accents.
void strip_accents(const std::vector<char32_t>& in, std::vector<char32_t>& nfd,
                   std::vector<char32_t>& out) {
  nfd.clear();
  for (const char32_t cp : in) {
    if (cp < 0xC0 || is_unassigned_before_15(cp)) {  // nothing below U+00C0 decomposes
      nfd.push_back(cp);
      continue;
    }
    utf8proc_int32_t buf[16];
    int boundclass = 0;
    const utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buf, 16,
                                                       UTF8PROC_DECOMPOSE, &boundclass);
    for (utf8proc_ssize_t k = 0; k < n && k < 16; ++k) nfd.push_back(static_cast<char32_t>(buf[k]));
  }
  // Canonical ordering: a stable sort of each run of non-starters by combining class. Runs are
  // short, so insertion sort.
  for (size_t i = 1; i < nfd.size(); ++i) {
    const int ccc = combining_class(nfd[i]);
    if (ccc == 0) continue;
    size_t j = i;
    while (j > 0) {
      const int prev = combining_class(nfd[j - 1]);
      if (prev == 0 || prev <= ccc) break;
      std::swap(nfd[j], nfd[j - 1]);
      --j;
    }
  }
  out.clear();
  for (const char32_t cp : nfd) {
    if (cp >= 0x300 && category(cp) == UTF8PROC_CATEGORY_MN) continue;
    out.push_back(cp);
  }
}

enum AsciiClass : unsigned char { kWordChar, kPunct, kSpace, kRemoved };

constexpr std::array<AsciiClass, 128> make_ascii_classes() {
  std::array<AsciiClass, 128> t{};
  for (int c = 0; c < 128; ++c) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      t[c] = kSpace;
    } else if (c < 0x20 || c == 0x7F) {
      t[c] = kRemoved;
    } else if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
               (c >= 123 && c <= 126)) {
      t[c] = kPunct;
    } else {
      t[c] = kWordChar;
    }
  }
  return t;
}
constexpr std::array<AsciiClass, 128> kAsciiClass = make_ascii_classes();

// Emits words during a scan: a word is closed by punctuation (which is a word of its own), by
// whitespace and at the end of a token.
struct WordWriter {
  WordList& out;
  size_t word_start;

  void close_word() {
    if (out.bytes.size() > word_start) out.ends.push_back(out.bytes.size());
    word_start = out.bytes.size();
  }
  void punct(char c) {
    close_word();
    out.bytes.push_back(c);
    close_word();
  }
};

// The general path for one whitespace token (raw bytes, may contain removable characters).
void split_token(std::string_view raw, const NormalizeOptions& options, WordList& out) {
  thread_local std::vector<char32_t> cps, lowered, nfd, stripped;
  cps.clear();
  for (size_t i = 0; i < raw.size();) {
    const char32_t cp = decode_utf8(raw, i);
    if (!is_removed(cp, category(cp))) cps.push_back(cp);
  }
  const std::vector<char32_t>* chars = &cps;
  if (options.lower_case) {
    lower_case(*chars, lowered);
    chars = &lowered;
  }
  if (options.strip_accents) {
    strip_accents(*chars, nfd, stripped);
    chars = &stripped;
  }
  WordWriter w{out, out.bytes.size()};
  for (const char32_t cp : *chars) {
    if (is_bert_punctuation(cp)) {
      w.close_word();
      append_utf8(cp, out.bytes);
      w.close_word();
    } else {
      append_utf8(cp, out.bytes);
    }
  }
  w.close_word();
}

}  // namespace

bool is_unassigned_before_15(char32_t cp) {
  if (cp < kAssignedIn15[0].first) return false;
  // First range whose end is >= cp.
  const Range* r = std::lower_bound(std::begin(kAssignedIn15), std::end(kAssignedIn15), cp,
                                    [](const Range& a, char32_t c) { return a.last < c; });
  return r != std::end(kAssignedIn15) && cp >= r->first;
}

bool is_bert_punctuation(char32_t cp) {
  if (cp < 0x80) return kAsciiClass[cp] == kPunct;
  return is_punctuation_category(category(cp));
}

bool is_cjk_ideograph(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

void split_words(std::string_view text, const NormalizeOptions& options, WordList& out) {
  // One scan emits ASCII words directly. The first non-ASCII character of a whitespace token
  // marks it; at the token's end its output is rolled back and the token redone on code points,
  // because lower-casing (final sigma) and NFD ordering look at the whole token.
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  const bool lower = options.lower_case;
  size_t token_begin = 0;             // where the current whitespace token starts in `text`
  size_t token_bytes = out.bytes.size();  // and in `out`
  size_t token_words = out.ends.size();
  bool token_general = false;
  WordWriter w{out, out.bytes.size()};

  auto end_token = [&](size_t token_end) {
    if (token_general) {
      out.bytes.resize(token_bytes);
      out.ends.resize(token_words);
      split_token(text.substr(token_begin, token_end - token_begin), options, out);
      token_general = false;
    } else {
      w.close_word();
    }
    w.word_start = token_bytes = out.bytes.size();
    token_words = out.ends.size();
  };

  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      switch (kAsciiClass[c]) {
        case kWordChar:
          out.bytes.push_back(static_cast<char>(lower && c >= 'A' && c <= 'Z' ? c + 32 : c));
          break;
        case kPunct:
          w.punct(static_cast<char>(c));
          break;
        case kSpace:
          end_token(i);
          token_begin = i + 1;
          break;
        case kRemoved:
          break;
      }
      ++i;
      continue;
    }
    const size_t cp_begin = i;
    const char32_t cp = decode_utf8(text, i);
    const utf8proc_category_t cat = category(cp);
    if (is_removed(cp, cat)) continue;
    if (is_whitespace(cp, cat)) {
      end_token(cp_begin);
      token_begin = i;
    } else if (options.chinese_chars && is_cjk_ideograph(cp)) {
      end_token(cp_begin);
      token_begin = cp_begin;
      // A word of its own. Compatibility ideographs (U+F900.., U+2F800..) have NFD singletons,
      // so they take the general path; unified ones have no case, decomposition or punctuation.
      if ((cp >= 0xF900 && cp <= 0xFAFF) || cp >= 0x2F800) {
        token_general = true;
      } else {
        out.bytes.append(text.substr(cp_begin, i - cp_begin));
      }
      end_token(i);
      token_begin = i;
    } else {
      token_general = true;
    }
  }
  end_token(n);
}

}  // namespace bertc
