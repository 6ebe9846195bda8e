// UTF-8 validation and replacement: every class of ill-formed input (Unicode 15 table 3-7) is found
// at the right offset and replaced per maximal subpart.
#include "common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace bertc {
namespace {

struct BadCase {
  std::string bytes;
  size_t offset;
  std::string reason;
};

TEST(Utf8, ValidTextHasNoProblem) {
  for (const std::string& s : std::initializer_list<std::string>{"", "plain ascii", "caf\xC3\xA9", "\xE2\x82\xAC 100", "\xF0\x9F\x98\x80",
                              "\xF4\x8F\xBF\xBF", "\xED\x9F\xBF", std::string("nul\0inside", 10)}) {
    EXPECT_FALSE(find_invalid_utf8(s)) << s;
    EXPECT_EQ(replace_invalid_utf8(s), s);
  }
}

TEST(Utf8, FindsEachKindOfIllFormedSequence) {
  const BadCase cases[] = {
      {"ab\xC0\xAF", 2, "overlong encoding"},                  // '/' in two bytes
      {"\xE0\x80\xAF", 0, "overlong encoding"},                // '/' in three bytes
      {"x\xF0\x80\x80\xAF", 1, "overlong encoding"},           // '/' in four bytes
      {"\xED\xA0\x80", 0, "UTF-16 surrogate"},                 // U+D800
      {"ok \xED\xBF\xBF", 3, "UTF-16 surrogate"},              // U+DFFF
      {"\xF4\x90\x80\x80", 0, "code point above U+10FFFF"},    // U+110000
      {"\xF5\x80\x80\x80", 0, "byte above 0xF4"},
      {"\xFF", 0, "byte above 0xF4"},
      {"a\x80", 1, "unexpected continuation byte"},
      {"end \xE2\x82", 4, "truncated sequence"},               // euro sign cut at the end
      {"\xE2\x82" "A", 0, "truncated sequence"},               // cut by an ASCII byte
      {"12345678\xF0\x9F\x98", 8, "truncated sequence"},       // after an 8-byte ASCII run
  };
  for (const auto& c : cases) {
    const Utf8Problem p = find_invalid_utf8(c.bytes);
    ASSERT_TRUE(p) << c.reason;
    EXPECT_EQ(p.offset_bytes, c.offset) << c.reason;
    EXPECT_EQ(std::string(p.reason), c.reason);
  }
}

TEST(Utf8, ReplacesEachMaximalSubpartWithOneReplacementCharacter) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(replace_invalid_utf8("a\xF0\x9F\x98" "b"), "a" + r + "b");       // one truncated sequence
  EXPECT_EQ(replace_invalid_utf8("\xE0\x80\xAF"), r + r + r);               // overlong: byte by byte
  EXPECT_EQ(replace_invalid_utf8("\xED\xA0\x80x"), r + r + r + "x");        // surrogate: byte by byte
  EXPECT_EQ(replace_invalid_utf8("\xC3\xA9\xFF\xC3\xA9"), "\xC3\xA9" + r + "\xC3\xA9");
  EXPECT_FALSE(find_invalid_utf8(replace_invalid_utf8("\xC0\xF5\x80\xE2\x82")));
}

TEST(Utf8, DecodeEncodeRoundTrip) {
  for (const char32_t cp : {U'\0', U'A', U'\u00E9', U'\u20AC', U'\uFFFD', U'\U0001F600', U'\U0010FFFF'}) {
    std::string s;
    append_utf8(cp, s);
    EXPECT_FALSE(find_invalid_utf8(s));
    size_t i = 0;
    EXPECT_EQ(decode_utf8(s, i), cp);
    EXPECT_EQ(i, s.size());
    EXPECT_EQ(count_code_points(s), 1u);
  }
}

}  // namespace
}  // namespace bertc
