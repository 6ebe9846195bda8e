// Strict UTF-8 validation and U+FFFD replacement (Unicode 15 core spec, section 3.9, table 3-7).
#include "common/utf8.h"

#include <cstring>

namespace bertc {
namespace {

// Length (1-4) of the well-formed sequence at s[i], or 0 with `reason` set and `bad_len` the
// length of the maximal ill-formed subpart there (what one U+FFFD replaces).
size_t sequence_length(const unsigned char* s, size_t n, size_t i, const char** reason,
                       size_t* bad_len) {
  const unsigned char b = s[i];
  if (b < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  const char* second_reason = "truncated sequence";
  if (b >= 0xC2 && b <= 0xDF) {
    len = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    len = 3;
    if (b == 0xE0) lo = 0xA0, second_reason = "overlong encoding";
    if (b == 0xED) hi = 0x9F, second_reason = "UTF-16 surrogate";
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4;
    if (b == 0xF0) lo = 0x90, second_reason = "overlong encoding";
    if (b == 0xF4) hi = 0x8F, second_reason = "code point above U+10FFFF";
  } else {
    *bad_len = 1;
    *reason = b <= 0xBF                ? "unexpected continuation byte"
              : (b == 0xC0 || b == 0xC1) ? "overlong encoding"
                                         : "byte above 0xF4";
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    if (i + k >= n) {
      *bad_len = k;
      *reason = "truncated sequence";
      return 0;
    }
    const unsigned char c = s[i + k];
    const bool in_range = k == 1 ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xBF);
    if (!in_range) {
      *bad_len = k;
      // A continuation byte outside the narrowed range names the rule it breaks; anything else
      // means the sequence stopped early.
      *reason = (k == 1 && c >= 0x80 && c <= 0xBF) ? second_reason : "truncated sequence";
      return 0;
    }
  }
  return len;
}

// Index of the first non-ASCII byte at or after i, 8 bytes at a time (most text is ASCII).
size_t skip_ascii(const unsigned char* s, size_t n, size_t i) {
  while (i + 8 <= n) {
    uint64_t w;
    std::memcpy(&w, s + i, 8);
    if (w & 0x8080808080808080ull) break;
    i += 8;
  }
  while (i < n && s[i] < 0x80) ++i;
  return i;
}

}  // namespace

Utf8Problem find_invalid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while ((i = skip_ascii(s, n, i)) < n) {
    const char* reason = nullptr;
    size_t bad_len = 0;
    const size_t len = sequence_length(s, n, i, &reason, &bad_len);
    if (len == 0) return {i, reason};
    i += len;
  }
  return {};
}

std::string replace_invalid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  std::string out;
  out.reserve(n);
  size_t i = 0;
  while (i < n) {
    const size_t ascii_end = skip_ascii(s, n, i);
    out.append(text.data() + i, ascii_end - i);
    i = ascii_end;
    if (i >= n) break;
    const char* reason = nullptr;
    size_t bad_len = 0;
    const size_t len = sequence_length(s, n, i, &reason, &bad_len);
    if (len == 0) {
      out.append("\xEF\xBF\xBD");
      i += bad_len;
    } else {
      out.append(text.data() + i, len);
      i += len;
    }
  }
  return out;
}

}  // namespace bertc
