// bertc tokenize, run as a user would: exit codes, one-line errors on stderr, and stdout that is
// diffable with the fixtures (JSON-lines input of cases.jsonl reproduces its tokens and ids byte
// for byte).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "test_util.h"

namespace bertc {
namespace {

using test::read_file;

std::string temp_path(const std::string& name) {
  // The pid keeps test processes that ctest runs in parallel off each other's files.
  return (std::filesystem::path(::testing::TempDir()) /
          ("tokenize_cli_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

std::string vocab_path() { return std::string(BERTC_TEST_DATA) + "/models/tiny-st/model/vocab.txt"; }

// Runs `bertc tokenize ARGS` with stdin from `stdin_path` (or empty).
test::CliResult run_tokenize(const std::string& args, const std::string& stdin_path = "/dev/null") {
  return test::run_bertc_args("tokenize " + args, stdin_path);
}

std::string write_input(const std::string& name, const std::string& bytes) {
  const std::string path = temp_path(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

size_t line_count(const std::string& s) { return size_t(std::count(s.begin(), s.end(), '\n')); }

TEST(TokenizeCli, TextArguments) {
  const test::CliResult r = run_tokenize("--vocab '" + vocab_path() + "' 'Hello, how are you?' 'He is sitting near the river bank'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "hello , how are you ?\t101 7592 1010 2129 2024 2017 1029 102\n"
            "he is sitting near the river bank\t101 2002 2003 3564 2379 1996 2314 2924 102\n");
  EXPECT_EQ(r.err, "");
}

TEST(TokenizeCli, JsonlReproducesCasesFile) {
  const std::string cases = std::string(BERTC_TEST_DATA) + "/tokenizer/cases.jsonl";
  const test::CliResult r = run_tokenize("--vocab '" + vocab_path() + "' --input-format jsonl --max-length 0", cases);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream want_lines(read_file(cases)), got_lines(r.out);
  std::string want, got;
  size_t n = 0, mismatches = 0;
  while (std::getline(want_lines, want)) {
    ++n;
    ASSERT_TRUE(std::getline(got_lines, got)) << "output ends at line " << n;
    // The fixture line is {"text", "tokens", "ids", "category", ...}; the output must be the
    // {"tokens", "ids"} part byte for byte (JSON-escaped text cannot contain the field separators).
    const size_t at = want.find(", \"tokens\": "), end = want.find(", \"category\": ");
    ASSERT_TRUE(at != std::string::npos && end != std::string::npos) << want;
    std::string expected = "{";
    expected.append(want, at + 2, end - at - 2);
    expected += '}';
    if (got != expected && ++mismatches <= 5) {
      ADD_FAILURE() << "line " << n << ":\nexpected " << expected << "\ngot      " << got;
    }
  }
  EXPECT_EQ(n, 3338u);
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(r.err, "");  // nothing truncated
}

TEST(TokenizeCli, JsonlPairsAndTruncationReport) {
  const std::string pairs = std::string(BERTC_TEST_DATA) + "/tokenizer/pairs.jsonl";
  const test::CliResult full = run_tokenize("--vocab '" + vocab_path() + "' --input-format jsonl", pairs);
  ASSERT_EQ(full.exit_code, 0) << full.err;
  std::istringstream want_lines(read_file(pairs)), got_lines(full.out);
  std::string want, got;
  size_t over_12 = 0;
  while (std::getline(want_lines, want) && std::getline(got_lines, got)) {
    const auto w = nlohmann::json::parse(want), g = nlohmann::json::parse(got);
    EXPECT_EQ(g["ids"], w["ids"]);
    EXPECT_EQ(g["token_type_ids"], w["token_type_ids"]);
    EXPECT_EQ(g["tokens_a"], w["tokens_a"]);
    EXPECT_EQ(g["tokens_b"], w["tokens_b"]);
    over_12 += w["ids"].size() > 12;
  }
  const test::CliResult cut = run_tokenize("--vocab '" + vocab_path() + "' --input-format jsonl --max-length 12", pairs);
  ASSERT_EQ(cut.exit_code, 0) << cut.err;
  EXPECT_EQ(line_count(cut.out), 50u);
  std::istringstream cut_lines(cut.out);
  while (std::getline(cut_lines, got)) EXPECT_LE(nlohmann::json::parse(got)["ids"].size(), 12u);
  EXPECT_NE(cut.err.find("<stdin>:1: truncated to 12 tokens"), std::string::npos) << cut.err;
  // The same file by name is JSON lines by its extension.
  const test::CliResult by_name = run_tokenize("--vocab '" + vocab_path() + "' --max-length 12 -i '" + pairs + "'");
  EXPECT_EQ(by_name.out, cut.out);
  EXPECT_NE(cut.err.find(str_cat("truncated ", over_12, " of 50 inputs to --max-length 12")),
            std::string::npos)
      << cut.err;
}

TEST(TokenizeCli, InvalidUtf8NamesLineAndByte) {
  const std::string in = write_input("bad_utf8.txt", "fine\nab\xC0\xAF" "cd\nlater\n");
  const test::CliResult r = run_tokenize("--vocab '" + vocab_path() + "'", in);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "bertc: error: <stdin>:2: invalid UTF-8 at byte 3 (overlong encoding; "
                   "--utf8-errors replace to go on)\n");
  const test::CliResult replaced = run_tokenize("--vocab '" + vocab_path() + "' --utf8-errors replace", in);
  EXPECT_EQ(replaced.exit_code, 0) << replaced.err;
  EXPECT_EQ(line_count(replaced.out), 3u);
  EXPECT_NE(replaced.out.find("\nabc ##d\t"), std::string::npos) << replaced.out;
  const test::CliResult jsonl = run_tokenize("--vocab '" + vocab_path() + "' --input-format jsonl",
                                 write_input("bad_utf8.jsonl", "{\"text\": \"x\xED\xA0\x80\"}\n"));
  EXPECT_EQ(jsonl.exit_code, 1);
  EXPECT_EQ(jsonl.err, "bertc: error: <stdin>:1: invalid UTF-8 at byte 12 (UTF-16 surrogate; "
                       "--utf8-errors replace to go on)\n");
}

TEST(TokenizeCli, SpecialLiterals) {
  const test::CliResult hf = run_tokenize("--vocab '" + vocab_path() + "' '[CLS] x' '[SEP]' '[a,b]'");
  // A whole argument in brackets is text too, not a CLI11 list.
  EXPECT_EQ(hf.out, "[CLS] x\t101 101 1060 102\n[SEP]\t101 102 102\n[ a , b ]\t101 1031 1037 1010 1038 1033 102\n");
  const test::CliResult text = run_tokenize("--vocab '" + vocab_path() + "' --special-as-text '[CLS] x'");
  EXPECT_EQ(text.out, "[ cl ##s ] x\t101 1031 18856 2015 1033 1060 102\n");
}

TEST(TokenizeCli, Cased) {
  const test::CliResult r = run_tokenize("--vocab '" + vocab_path() + "' --cased 'Hello world'");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "[UNK] world\t101 100 2088 102\n");  // the uncased vocab has no "Hello"
}

// -m MODEL.bertc (converted from tiny-st, whose vocab.txt is bert-base-uncased) gives what
// --vocab gives.
TEST(TokenizeCli, ModelFileMatchesVocab) {
  const std::string model = temp_path("tiny-st.bertc");
  const std::string convert = std::string("'") + BERTC_BINARY + "' convert -q '" + BERTC_TEST_DATA +
                              "/models/tiny-st/model' -o '" + model + "'";
  ASSERT_EQ(std::system(convert.c_str()), 0);
  const std::string cases = std::string(BERTC_TEST_DATA) + "/tokenizer/cases.jsonl";
  const test::CliResult by_model = run_tokenize("-m '" + model + "' --input-format jsonl", cases);
  const test::CliResult by_vocab = run_tokenize("--vocab '" + vocab_path() + "' --input-format jsonl", cases);
  EXPECT_EQ(by_model.exit_code, 0) << by_model.err;
  EXPECT_EQ(line_count(by_model.out), 3338u);
  EXPECT_EQ(by_model.out, by_vocab.out);
  EXPECT_EQ(by_model.err, by_vocab.err);
  std::filesystem::remove(model);
}

TEST(TokenizeCli, UsageAndInputErrors) {
  const auto one_line = [](const test::CliResult& r) { return line_count(r.err) == 1 && r.err.back() == '\n'; };
  test::CliResult r = run_tokenize("--cased x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(one_line(r)) << r.err;
  r = run_tokenize("--vocab '" + vocab_path() + "' --utf8-errors ignore x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(one_line(r)) << r.err;
  // JSON-lines TEXT arguments are JSON objects, as in embed.
  r = run_tokenize("--vocab '" + vocab_path() + "' --input-format jsonl x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_line(r)) << r.err;
  EXPECT_NE(r.err.find("argument 1: invalid JSON"), std::string::npos) << r.err;
  r = run_tokenize("--vocab /nonexistent/vocab.txt x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "bertc: error: /nonexistent/vocab.txt: cannot open vocabulary file\n");
  r = run_tokenize("-m /nonexistent/model.bertc x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_line(r)) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/model.bertc"), std::string::npos) << r.err;
  r = run_tokenize("--vocab '" + vocab_path() + "' --input-format jsonl",
                   write_input("not_json.jsonl", "{\"text\": \"ok\"}\n{\"text\": 5}\n"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "bertc: error: <stdin>:2: \"text\" must be a string\n");
  r = run_tokenize("--vocab '" + vocab_path() + "' --input-format jsonl", write_input("garbage.jsonl", "{oops\n"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_line(r)) << r.err;
  EXPECT_NE(r.err.find("<stdin>:1: invalid JSON"), std::string::npos) << r.err;
  r = run_tokenize("--vocab '" + vocab_path() + "' --input-format jsonl", write_input("no_text.jsonl", "{\"a\": \"b\"}\n"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_line(r)) << r.err;
}

TEST(TokenizeCli, HelpListsGroupedOptions) {
  const test::CliResult r = run_tokenize("--help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* s : {"Model:", "Tokenizer:", "Input:", "--max-length", "--utf8-errors", "=error"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace bertc
