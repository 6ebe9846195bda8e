// Vocab loading: LF and CRLF files, ids by line, and clear errors for empty lines, duplicates,
// invalid UTF-8, missing files and missing special tokens.
#include "tokenizer/vocab.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "tests/tokenizer/tokenizer_util.h"
#include "tokenizer/tokenizer.h"

namespace bertc {
namespace {

std::string write_temp(const std::string& name, const std::string& bytes) {
  const auto path = std::filesystem::path(::testing::TempDir()) / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path.string();
}

// Runs f, expects a bertc::Error whose message contains every part.
template <typename F>
void expect_error(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(Vocab, BertBaseUncased) {
  const Vocab& v = testing::uncased_vocab();
  EXPECT_EQ(v.size(), 30522u);
  EXPECT_EQ(v.id("[PAD]"), 0);
  EXPECT_EQ(v.id("[CLS]"), 101);
  EXPECT_EQ(v.id("hello"), 7592);
  EXPECT_EQ(v.id("##s"), 2015);
  EXPECT_EQ(v.id("not-a-token"), -1);
  EXPECT_EQ(v.id(""), -1);
  for (int32_t id : {0, 100, 101, 7592, 30521}) EXPECT_EQ(v.id(v.token(id)), id);
}

TEST(Vocab, LfAndCrlfFilesGiveTheSameTokens) {
  const Vocab lf = Vocab::from_file(write_temp("lf.txt", "[PAD]\na\n##b\n"));
  const Vocab crlf = Vocab::from_file(write_temp("crlf.txt", "[PAD]\r\na\r\n##b"));  // no final newline
  ASSERT_EQ(lf.size(), 3u);
  ASSERT_EQ(crlf.size(), 3u);
  for (int32_t id = 0; id < 3; ++id) EXPECT_EQ(lf.token(id), crlf.token(id));
  EXPECT_EQ(crlf.id("##b"), 2);
}

TEST(Vocab, RejectsBadFiles) {
  expect_error([] { Vocab::from_file(write_temp("empty_line.txt", "a\n\nb\n")); },
               {"empty_line.txt", "line 2", "empty token"});
  expect_error([] { Vocab::from_file(write_temp("dup.txt", "a\nb\na\n")); },
               {"dup.txt", "line 3 duplicates line 1", "'a'"});
  expect_error([] { Vocab::from_file(write_temp("bad_utf8.txt", "a\n\xC0\xAF\n")); },
               {"bad_utf8.txt", "line 2", "not valid UTF-8"});
  expect_error([] { Vocab::from_file(write_temp("nothing.txt", "")); }, {"nothing.txt", "empty"});
  expect_error([] { Vocab::from_file("/nonexistent/vocab.txt"); },
               {"/nonexistent/vocab.txt", "cannot open"});
  expect_error([] { Vocab::from_tokens({"a"}, "model.bertc").token(5); },
               {"model.bertc", "token id 5 is out of range"});
}

TEST(Vocab, TokenizerNeedsEverySpecialToken) {
  expect_error(
      [] {
        Tokenizer(Vocab::from_tokens({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello"}, "v.txt"), {});
      },
      {"v.txt", "[MASK]", "not in the vocabulary"});
  EXPECT_NO_THROW(Tokenizer(
      Vocab::from_tokens({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}, "v.txt"), {}));
}

}  // namespace
}  // namespace bertc
