// Every reference case in tests/data/tokenizer (google-research/bert FullTokenizer, Unicode 14.0,
// max 100 code points per word) must give exactly the same tokens and ids.
#include <gtest/gtest.h>

#include <iomanip>
#include <sstream>

#include "tests/tokenizer/tokenizer_util.h"

namespace bertc {
namespace {

using testing::aligned_diff;
using testing::make_tokenizer;
using testing::read_jsonl;
using testing::token_strings;
using testing::tokenizer_data;

std::vector<int32_t> ids_of(const nlohmann::json& j) { return j.get<std::vector<int32_t>>(); }

// Checks every row of a cases-format file and reports each mismatch (up to a limit) with a diff.
void check_cases_file(const Tokenizer& tok, const std::string& name, size_t expected_rows) {
  const auto rows = read_jsonl(tokenizer_data(name));
  ASSERT_EQ(rows.size(), expected_rows) << name;
  size_t failures = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const std::string text = row["text"];
    const Encoding e = tok.encode(text, 0);
    const std::vector<int32_t> want_ids = ids_of(row["ids"]);
    const auto want_tokens = row["tokens"].get<std::vector<std::string>>();
    const std::vector<int32_t> pieces(e.ids.begin() + 1, e.ids.end() - 1);
    const auto got_tokens = token_strings(tok, pieces);
    if (e.ids == want_ids && got_tokens == want_tokens) continue;
    if (++failures <= 20) {
      ADD_FAILURE() << name << " line " << r + 1 << " (" << row.value("category", "") << "): "
                    << nlohmann::json(text).dump() << "\ntokens:\n"
                    << aligned_diff(want_tokens, got_tokens) << "ids:\n"
                    << aligned_diff(want_ids, e.ids);
    }
  }
  EXPECT_EQ(failures, 0u) << name << ": " << failures << " of " << rows.size() << " cases differ";
}

TEST(TokenizerCases, AllCasesMatchReference) {
  check_cases_file(make_tokenizer(), "cases.jsonl", 3338);
}

TEST(TokenizerCases, SpecialLiteralsAsTextMatchReference) {
  TokenizerOptions options;
  options.special_literals = false;
  check_cases_file(make_tokenizer(options), "special_token_literals.jsonl", 11);
}

TEST(TokenizerCases, PairsMatchReference) {
  const Tokenizer tok = make_tokenizer();
  const auto rows = read_jsonl(tokenizer_data("pairs.jsonl"));
  ASSERT_EQ(rows.size(), 50u);
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const Encoding e = tok.encode_pair(row["text_a"].get<std::string>(),
                                       row["text_b"].get<std::string>(), 0);
    const auto want_ids = ids_of(row["ids"]);
    const auto want_types = ids_of(row["token_type_ids"]);
    EXPECT_EQ(e.ids, want_ids) << "pairs.jsonl line " << r + 1 << "\n" << aligned_diff(want_ids, e.ids);
    EXPECT_EQ(e.type_ids, want_types) << "pairs.jsonl line " << r + 1 << "\n"
                                      << aligned_diff(want_types, e.type_ids);
    EXPECT_EQ(e.truncated_tokens, 0);
  }
}

// HF's max_input_chars_per_word = 100, not Google's 200.
TEST(TokenizerCases, LongWordsFollowMax100) {
  const Tokenizer tok = make_tokenizer();
  const auto rows = read_jsonl(tokenizer_data("max_chars_100_vs_200.jsonl"));
  ASSERT_EQ(rows.size(), 6u);
  for (const auto& row : rows) {
    std::vector<int32_t> pieces;
    tok.wordpieces(row["text"].get<std::string>(), pieces);
    const auto want = row["tokens_max100"].get<std::vector<std::string>>();
    const auto got = token_strings(tok, pieces);
    EXPECT_EQ(got, want) << aligned_diff(want, got);
  }
}

// The five sentences of the seed notebook.
struct SeedCase {
  const char* text;
  std::vector<int32_t> ids;
};

class TokenizerSeed : public ::testing::TestWithParam<SeedCase> {};

TEST_P(TokenizerSeed, Ids) {
  static const Tokenizer tok = make_tokenizer();
  const Encoding e = tok.encode(GetParam().text, 512);
  EXPECT_EQ(e.ids, GetParam().ids) << aligned_diff(GetParam().ids, e.ids);
}

INSTANTIATE_TEST_SUITE_P(
    Notebook, TokenizerSeed,
    ::testing::Values(
        SeedCase{"He is sitting near the river bank",
                 {101, 2002, 2003, 3564, 2379, 1996, 2314, 2924, 102}},
        SeedCase{"He is sitting in the bank to get some cash",
                 {101, 2002, 2003, 3564, 1999, 1996, 2924, 2000, 2131, 2070, 5356, 102}},
        SeedCase{"The elephant is sitting near the bank of the river",
                 {101, 1996, 10777, 2003, 3564, 2379, 1996, 2924, 1997, 1996, 2314, 102}},
        SeedCase{"The bank is closed so he cannot get any money today",
                 {101, 1996, 2924, 2003, 2701, 2061, 2002, 3685, 2131, 2151, 2769, 2651, 102}},
        SeedCase{"Hello, how are you?", {101, 7592, 1010, 2129, 2024, 2017, 1029, 102}}));

}  // namespace
}  // namespace bertc
