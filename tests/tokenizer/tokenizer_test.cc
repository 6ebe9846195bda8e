// Tokenizer invariants and hostile input: calls are independent (order, threads, joined lines),
// truncation rules for single and pair inputs, cased vs uncased, special-token literals, invalid
// UTF-8, NUL bytes, a 10 MB line, combining marks only, and the Unicode 14.0 table.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/error.h"
#include "tests/tokenizer/tokenizer_util.h"
#include "common/utf8.h"

namespace bertc {
namespace {

using testing::aligned_diff;
using testing::make_tokenizer;
using testing::read_jsonl;
using testing::tokenizer_data;
using testing::token_strings;

const Tokenizer& uncased() {
  static const Tokenizer tok = make_tokenizer();
  return tok;
}

std::vector<int32_t> pieces(const Tokenizer& tok, std::string_view text) {
  std::vector<int32_t> out;
  tok.wordpieces(text, out);
  return out;
}

std::vector<std::string> case_texts() {
  std::vector<std::string> texts;
  for (const auto& row : read_jsonl(tokenizer_data("cases.jsonl"))) texts.push_back(row["text"]);
  return texts;
}

// No state survives a call: reverse order and two threads at once give the same ids.
TEST(Tokenizer, CallsAreIndependentOfOrderAndThreads) {
  const auto texts = case_texts();
  std::vector<std::vector<int32_t>> forward(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) forward[i] = uncased().encode(texts[i], 0).ids;
  for (size_t i = texts.size(); i-- > 0;) {
    ASSERT_EQ(uncased().encode(texts[i], 0).ids, forward[i]) << texts[i];
  }
  auto check_half = [&](size_t parity, int* mismatches) {
    for (size_t i = parity; i < texts.size(); i += 2) {
      if (uncased().encode(texts[i], 0).ids != forward[i]) ++*mismatches;
    }
  };
  int m0 = 0, m1 = 0;
  std::thread t(check_half, 0, &m0);
  check_half(1, &m1);
  t.join();
  EXPECT_EQ(m0 + m1, 0);
}

// A batch of lines joined by newlines (whitespace to BERT) gives each line's pieces in order.
TEST(Tokenizer, JoinedLinesEqualEachLineAlone) {
  const auto texts = case_texts();
  std::string joined;
  std::vector<int32_t> each;
  for (size_t i = 0; i < texts.size(); i += 7) {
    joined += texts[i] + "\n";
    uncased().wordpieces(texts[i], each);
  }
  EXPECT_EQ(pieces(uncased(), joined), each);
}

TEST(Tokenizer, SingleTruncationKeepsThePrefix) {
  const std::string text = "the quick brown fox jumps over the lazy dog";  // 9 pieces
  const auto all = pieces(uncased(), text);
  ASSERT_EQ(all.size(), 9u);
  for (int64_t max_length : {2, 3, 5, 10, 11, 12, 512}) {
    const Encoding e = uncased().encode(text, max_length);
    const size_t kept = std::min<size_t>(9, static_cast<size_t>(max_length - 2));
    ASSERT_EQ(e.ids.size(), kept + 2) << max_length;
    EXPECT_EQ(e.ids.front(), uncased().cls_id());
    EXPECT_EQ(e.ids.back(), uncased().sep_id());
    EXPECT_TRUE(std::equal(all.begin(), all.begin() + kept, e.ids.begin() + 1));
    EXPECT_EQ(e.truncated_tokens, static_cast<int64_t>(9 - kept));
    EXPECT_EQ(e.type_ids, std::vector<int32_t>(e.ids.size(), 0));
  }
  EXPECT_EQ(uncased().encode(text, 0).truncated_tokens, 0);  // 0: no limit
  EXPECT_THROW(uncased().encode(text, 1), Error);
}

// HF tokenizers' longest_first: (pieces of a, pieces of b, max_length) -> pieces kept of each.
TEST(Tokenizer, PairTruncationIsLongestFirst) {
  struct Case {
    size_t na, nb;
    int64_t max_length;
    size_t keep_a, keep_b;
  };
  const Case cases[] = {
      {5, 5, 13, 5, 5},   // fits
      {10, 3, 10, 4, 3},  // only the longer side is cut
      {3, 10, 10, 3, 4},
      {6, 4, 10, 4, 3},   // both over half: halves, the odd piece to the longer side
      {4, 6, 10, 3, 4},
      {5, 5, 10, 3, 4},   // equal: the odd piece to b
      {5, 5, 11, 4, 4},
      {8, 0, 5, 2, 0},    // empty b
      {0, 8, 5, 0, 2},
      {3, 3, 3, 0, 0},    // room for the specials only
  };
  for (const Case& c : cases) {
    std::string a, b;
    for (size_t i = 0; i < c.na; ++i) a += "word ";
    for (size_t i = 0; i < c.nb; ++i) b += "text ";
    const Encoding e = uncased().encode_pair(a, b, c.max_length);
    const int32_t word = uncased().vocab().id("word"), text = uncased().vocab().id("text");
    const auto count = [&](int32_t id) { return size_t(std::count(e.ids.begin(), e.ids.end(), id)); };
    EXPECT_EQ(count(word), c.keep_a) << c.na << "+" << c.nb << " in " << c.max_length;
    EXPECT_EQ(count(text), c.keep_b) << c.na << "+" << c.nb << " in " << c.max_length;
    EXPECT_EQ(e.truncated_tokens, static_cast<int64_t>(c.na + c.nb - c.keep_a - c.keep_b));
    EXPECT_EQ(e.ids.size(), c.keep_a + c.keep_b + 3);
    EXPECT_EQ(std::count(e.type_ids.begin(), e.type_ids.end(), 1), int64_t(c.keep_b + 1));
  }
  EXPECT_THROW(uncased().encode_pair("a", "b", 2), Error);
}

TEST(Tokenizer, CasedKeepsCaseAndAccents) {
  const std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Hello",
                                           "hello", "Café",  "café",  "cafe",  "##s",    ","};
  TokenizerOptions cased_options;
  cased_options.lower_case = cased_options.strip_accents = false;
  const Tokenizer cased(Vocab::from_tokens(tokens, "cased"), cased_options);
  const Tokenizer lower(Vocab::from_tokens(tokens, "uncased"), {});
  TokenizerOptions keep_accents;
  keep_accents.strip_accents = false;
  const Tokenizer lower_accents(Vocab::from_tokens(tokens, "uncased"), keep_accents);
  const std::string text = "Hello, Cafés";
  using V = std::vector<std::string>;
  EXPECT_EQ(token_strings(cased, pieces(cased, text)), (V{"Hello", ",", "Café", "##s"}));
  EXPECT_EQ(token_strings(lower, pieces(lower, text)), (V{"hello", ",", "cafe", "##s"}));
  EXPECT_EQ(token_strings(lower_accents, pieces(lower_accents, text)),
            (V{"hello", ",", "café", "##s"}));
}

TEST(Tokenizer, SpecialLiteralsMapToTheirIdsByDefault) {
  const Tokenizer& tok = uncased();
  EXPECT_EQ(tok.encode("[CLS]", 0).ids, (std::vector<int32_t>{101, 101, 102}));
  EXPECT_EQ(tok.encode("a[SEP]b [MASK]", 0).ids,
            (std::vector<int32_t>{101, 1037, 102, 1038, 103, 102}));
  // Case-sensitive and exact, as HF's added tokens: these are plain text.
  EXPECT_EQ(pieces(tok, "[cls]"), pieces(tok, "[ cls ]"));
  EXPECT_EQ(pieces(tok, "[CLS"), pieces(tok, "[ CLS"));
  TokenizerOptions as_text;
  as_text.special_literals = false;
  const Tokenizer plain = make_tokenizer(as_text);
  EXPECT_EQ(token_strings(plain, pieces(plain, "[CLS]")),
            (std::vector<std::string>{"[", "cl", "##s", "]"}));
}

// Special tokens of other shapes (RoBERTa-style "<s>") are matched in text too.
TEST(Tokenizer, SpecialLiteralsOfAnyShape) {
  TokenizerOptions options;
  options.pad_token = "<pad>";
  options.cls_token = "<s>";
  options.sep_token = "</s>";
  const Tokenizer tok(Vocab::from_tokens({"<pad>", "[UNK]", "<s>", "</s>", "[MASK]", "a", "b"}, "v"),
                      options);
  EXPECT_EQ(pieces(tok, "a</s>b <s>[MASK]"), (std::vector<int32_t>{5, 3, 6, 2, 4}));
}

TEST(Tokenizer, InvalidUtf8IsAnErrorWithTheOffsetOrIsReplaced) {
  const std::string bad[] = {"ab\xC0\xAF", "\xED\xA0\x80", "caf\xC3", "\xF5\x80\x80\x80", "x\x80y"};
  TokenizerOptions replace;
  replace.replace_invalid_utf8 = true;
  const Tokenizer lenient = make_tokenizer(replace);
  for (const std::string& s : bad) {
    try {
      uncased().encode(s, 0);
      ADD_FAILURE() << "no error for " << s;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("invalid UTF-8 at byte offset"), std::string::npos);
    }
    // U+FFFD is dropped by clean-up without a space, so only the valid bytes remain.
    EXPECT_EQ(lenient.encode(s, 0).ids,
              lenient.encode(replace_invalid_utf8(s), 0).ids);
  }
  EXPECT_EQ(pieces(lenient, "ab\xC0\xAF" "cd"), pieces(lenient, "abcd"));
  try {
    uncased().encode("hello w\xF0\x9F\x98", 0);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("byte offset 7 (truncated sequence)"), std::string::npos);
  }
}

TEST(Tokenizer, NulAndControlBytesAreDropped) {
  EXPECT_EQ(pieces(uncased(), std::string("hel\0lo", 6)), pieces(uncased(), "hello"));
  EXPECT_EQ(pieces(uncased(), std::string("\0\0\0", 3)), std::vector<int32_t>{});
  EXPECT_EQ(pieces(uncased(), "a\x01\x1b[0mb"), pieces(uncased(), "a[0mb"));
  // The same inside a token that also has non-ASCII characters (the general path).
  EXPECT_EQ(pieces(uncased(), std::string("caf\xC3\xA9\x01\x7f\0s", 9)),
            pieces(uncased(), "caf\xC3\xA9s"));
}

TEST(Tokenizer, TenMegabyteLine) {
  std::string line;
  const std::string sentence = "The bank is closed so he cannot get any money today. ";
  while (line.size() < (size_t(10) << 20)) line += sentence;
  const size_t copies = line.size() / sentence.size();
  const auto one = pieces(uncased(), sentence);
  const Encoding e = uncased().encode(line, 512);
  EXPECT_EQ(e.ids.size(), 512u);
  EXPECT_EQ(e.truncated_tokens, static_cast<int64_t>(copies * one.size() - 510));
  // One 10 MB word: longer than 100 code points, so [UNK].
  const std::string word(size_t(10) << 20, 'a');
  EXPECT_EQ(pieces(uncased(), word), std::vector<int32_t>{uncased().unk_id()});
}

TEST(Tokenizer, CombiningMarksOnly) {
  std::string marks;
  for (int i = 0; i < 1000; ++i) marks += "\xCC\x81";  // U+0301, Mn
  EXPECT_EQ(pieces(uncased(), marks), std::vector<int32_t>{});  // all stripped
  TokenizerOptions cased;
  cased.lower_case = cased.strip_accents = false;
  const Tokenizer keep = make_tokenizer(cased);
  EXPECT_EQ(pieces(keep, marks), std::vector<int32_t>{keep.unk_id()});  // one 1000-mark word
}

// Assigned in Unicode 15.0, so unassigned (Cn) for the 14.0 references: kept, not punctuation.
TEST(Tokenizer, CodePointsNewInUnicode15AreUnassigned) {
  EXPECT_TRUE(is_unassigned_before_15(0x1FAE8));   // shaking face (So in 15.0)
  EXPECT_TRUE(is_unassigned_before_15(0x11F43));   // Kawi punctuation (Po in 15.0)
  EXPECT_TRUE(is_unassigned_before_15(0x31350));   // CJK Extension H
  EXPECT_TRUE(is_unassigned_before_15(0x323AF));
  EXPECT_FALSE(is_unassigned_before_15(0x1FAE7));  // assigned in 14.0
  EXPECT_FALSE(is_unassigned_before_15(0x323B0));
  EXPECT_FALSE(is_unassigned_before_15('a'));
  EXPECT_FALSE(is_bert_punctuation(0x11F43));
  EXPECT_TRUE(is_bert_punctuation(0x3001));
  EXPECT_TRUE(is_bert_punctuation('$'));
  EXPECT_FALSE(is_bert_punctuation(0x20AC));       // Sc: stays in the word
  // "a" + U+11F43 + "b": one word with an unknown character in it.
  EXPECT_EQ(pieces(uncased(), "a\xF0\x91\xBD\x83" "b"), std::vector<int32_t>{uncased().unk_id()});
}

}  // namespace
}  // namespace bertc
