// Strict UTF-8 decoding and validation (RFC 3629: no overlong forms, no surrogates, nothing past
// U+10FFFF), used on every tokenizer input. Checked by tests/common/utf8_test.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bertc {

// The first ill-formed sequence in a string: where it starts and why it is ill-formed.
struct Utf8Problem {
  size_t offset_bytes = 0;
  const char* reason = nullptr;  // nullptr: the string is valid
  explicit operator bool() const { return reason != nullptr; }
};

Utf8Problem find_invalid_utf8(std::string_view text);

// Replaces each maximal ill-formed subpart with U+FFFD (the Unicode "substitution of maximal
// subparts" policy, as Python's errors="replace"); valid input comes back unchanged.
std::string replace_invalid_utf8(std::string_view text);

// Decodes the code point at text[i] and advances i; the text must be valid UTF-8.
inline char32_t decode_utf8(std::string_view text, size_t& i) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char b = s[i];
  if (b < 0x80) {
    ++i;
    return b;
  }
  if (b < 0xE0) {
    const char32_t cp = (char32_t(b & 0x1F) << 6) | (s[i + 1] & 0x3F);
    i += 2;
    return cp;
  }
  if (b < 0xF0) {
    const char32_t cp =
        (char32_t(b & 0x0F) << 12) | (char32_t(s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
    i += 3;
    return cp;
  }
  const char32_t cp = (char32_t(b & 0x07) << 18) | (char32_t(s[i + 1] & 0x3F) << 12) |
                      (char32_t(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
  i += 4;
  return cp;
}

inline void append_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Code points in valid UTF-8: every byte that is not a continuation byte starts one.
inline size_t count_code_points(std::string_view text) {
  size_t n = 0;
  for (unsigned char b : text) n += (b & 0xC0) != 0x80;
  return n;
}

}  // namespace bertc
