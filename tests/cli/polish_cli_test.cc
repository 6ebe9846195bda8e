// Issue 14, classes 3 and 4: output and progress polish (the bar ends its line before the
// summary, every output file is named, npy to stdout, extensions that disagree with --format,
// bench shapes checked first, the search table with negative scores and wide characters, queries
// x corpus similarity, tokenize -i/-o with embed's max length, --stride alone, empty inputs,
// tokens with their ids), and the two commands of a fresh clone.
#include <gtest/gtest.h>
#include <utf8proc.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/npy.h"
#include "common/utf8.h"
#include "engine_test_util.h"
#include "tests/weights/weights_test_util.h"

namespace bertc {
namespace {

namespace fs = std::filesystem;
using testing::run_bertc;

std::string q(const std::string& s) { return testing::shell_quote(s); }

std::string tiny_path() { return testing::converted_path(testing::fixture_model_dir("tiny-st"), "tiny-st"); }
std::string tiny() { return "-m " + q(tiny_path()) + " --threads 1"; }

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) v.push_back(nlohmann::json::parse(line));
  return v;
}

TEST(PolishCli, ProgressBarEndsItsLineBeforeTheSummary) {
  if (std::system("command -v script > /dev/null") != 0) GTEST_SKIP() << "no script(1) for a terminal";
  testing::TempDir dir;
  std::string many;
  for (int i = 0; i < 400; ++i) many += "text number " + std::to_string(i) + "\n";
  const std::string in = dir.write("many.txt", many);
  // script gives bertc a terminal on stderr, so the bar is drawn; stdout goes to a file.
  const std::string cmd = q(BERTC_BINARY) + " embed " + tiny() + " -i " + q(in) + " --pool mean,cls -o " +
                          q(dir / "e.npy");
  const std::string log = dir / "tty.log";
  ASSERT_EQ(std::system(("script -qec " + q(cmd) + " " + q(log) + " > /dev/null").c_str()), 0);
  const std::string tty = testing::read_file(log);
  const size_t summary = tty.find("bertc embed: 400 texts");
  ASSERT_NE(summary, std::string::npos) << tty;
  EXPECT_NE(tty.find("embedding ["), std::string::npos) << tty;  // the bar was drawn
  EXPECT_EQ(tty[summary - 1], '\n') << tty;  // the summary starts a line of its own
  // Both output files are named.
  EXPECT_NE(tty.find(dir / "e.mean.npy"), std::string::npos) << tty;
  EXPECT_NE(tty.find(dir / "e.cls.npy"), std::string::npos) << tty;
}

TEST(PolishCli, NpyToStdoutAndExtensionsThatDisagree) {
  testing::TempDir dir;
  auto r = run_bertc("embed " + tiny() + " -q --format npy -o - hello");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const NpyArray a = parse_npy(r.out, "stdout");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{1, 128}));
  r = run_bertc("embed " + tiny() + " -q --format npy hello");  // stdout by default
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, 6), "\x93NUMPY");
  for (const std::string& cmd : {"embed " + tiny() + " -o " + q(dir / "x.npy") + " --format jsonl hello",
                                 "similarity " + tiny() + " -o " + q(dir / "x.csv") + " --format npy a b"}) {
    r = run_bertc(cmd);
    EXPECT_EQ(r.exit_code, 2) << cmd;
    EXPECT_NE(r.err.find("the extension says"), std::string::npos) << r.err;
  }
  r = run_bertc("embed " + tiny() + " -o " + q(dir / "x.txt") + " hello");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown extension '.txt'"), std::string::npos) << r.err;
  r = run_bertc("embed " + tiny() + " -q -o " + q(dir / "x.txt") + " --format tsv hello");  // explicit: fine
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // similarity takes its format from the extension too.
  r = run_bertc("similarity " + tiny() + " -q -o " + q(dir / "s.npy") + " a b c");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_npy(dir / "s.npy").shape, (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(dir.count(), 2u);
}

TEST(PolishCli, BenchShapesAreCheckedBeforeAnythingRuns) {
  const auto r = run_bertc("bench --random tiny --threads 1 --reps 1 --shapes 1x8,1x9999");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");  // no half table
  EXPECT_EQ(r.err, "bertc bench: error: --shapes: seq 9999 exceeds the model's max_position_embeddings 512\n");
}

// Terminal columns of a UTF-8 line (wide characters count 2).
size_t columns(const std::string& s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) n += std::max(0, utf8proc_charwidth(static_cast<utf8proc_int32_t>(decode_utf8(s, i))));
  return n;
}

TEST(PolishCli, SearchTableKeepsColumnsWithNegativeScoresAndWideText) {
  testing::TempDir dir;
  const std::string corpus = dir.write("c.txt", "東京の川の銀行、とても長い日本語の文章がここに続きます。東京の川の銀行\n"
                                                "river bank\nwww\nmoney money money\n");
  const std::string glove = dir / "g.bertc";
  ASSERT_EQ(run_bertc("convert -q " + q(std::string(BERTC_TEST_DATA) + "/glove/glove_twitter_25d.w2v.bin") +
                      " -o " + q(glove)).exit_code, 0);
  const auto r = run_bertc("search " + tiny() + " --w2v " + q(glove) + " -q -k 4 --pool mean,w2v --corpus " +
                           q(corpus) + " river");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<std::string> rows;
  for (std::string l; std::getline(lines, l);)
    if (!l.empty() && l[0] == ' ') rows.push_back(l);  // "   1  0.1234  text ..." rows
  ASSERT_EQ(rows.size(), 4u) << r.out;
  bool negative = false;
  size_t w2v_column = 0;
  for (const std::string& row : rows) {
    // The w2v score column starts where the mean text column ends: the same column in every row.
    const size_t mean_end = 4 + 2 + 7 + 2 + 56;
    std::string prefix;
    size_t cols = 0, i = 0;
    while (i < row.size() && cols < mean_end) {
      const size_t start = i;
      cols += std::max(0, utf8proc_charwidth(static_cast<utf8proc_int32_t>(decode_utf8(row, i))));
      prefix.append(row, start, i - start);
    }
    EXPECT_EQ(columns(prefix), mean_end) << row;
    if (w2v_column == 0) w2v_column = columns(prefix);
    EXPECT_EQ(columns(prefix), w2v_column) << row;
    negative = negative || row.find(" -0.") != std::string::npos;
  }
  EXPECT_TRUE(negative) << r.out;  // "www" against "river" in GloVe: the case that broke columns
}

TEST(PolishCli, SimilarityQueriesByCorpus) {
  testing::TempDir dir;
  const std::string queries = dir.write("q.txt", "the river\nmoney\n");
  const std::string corpus = dir.write("c.txt", "a bank\nthe water\nzebra\n");
  auto r = run_bertc("similarity " + tiny() + " -q --pool mean,cls --queries " + q(queries) + " --corpus " +
                     q(corpus) + " -o " + q(dir / "qc.npy"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const NpyArray qc = read_npy(dir / "qc.mean.npy");
  ASSERT_EQ(qc.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(read_npy(dir / "qc.cls.npy").shape, (std::vector<int64_t>{2, 3}));
  // Each entry is the one of the square matrix of all five texts.
  r = run_bertc("similarity " + tiny() + " -q --pool mean -o " + q(dir / "all.npy") +
                " 'the river' money 'a bank' 'the water' zebra");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const NpyArray all = read_npy(dir / "all.npy");
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(qc.data[i * 3 + j], all.data[i * 5 + 2 + j], 1e-6) << i << "," << j;
}

TEST(PolishCli, TokenizeFilesAndEmbedsMaxLength) {
  testing::TempDir dir;
  const std::string in = dir.write("in.txt", "hello world\nthe river bank\n");
  auto r = run_bertc("tokenize -m " + q(tiny_path()) + " -i " + q(in) + " -o " + q(dir / "out.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(testing::read_file(dir / "out.txt"), run_bertc("tokenize -m " + q(tiny_path()) + " 'hello world' 'the river bank'").out);
  // all-MiniLM-L6-v2 embeds at most 256 tokens (sentence-transformers max_seq_length), and
  // tokenize says so for the same text, as embed does.
  const std::string minilm = testing::converted_path(testing::minilm_dir(), "minilm");
  std::string text;
  for (int i = 0; i < 300; ++i) text += "word ";
  r = run_bertc("tokenize -m " + q(minilm) + " " + q(text));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("truncated to 256 tokens"), std::string::npos) << r.err;
  r = run_bertc("embed -m " + q(minilm) + " --threads 1 -q " + q(text));
  EXPECT_NE(r.err.find("truncated to 256 tokens"), std::string::npos) << r.err;
}

TEST(PolishCli, EmptyInputGivesAnEmptyOutputWithAWarning) {
  testing::TempDir dir;
  auto r = run_bertc("embed " + tiny() + " -q -o " + q(dir / "e.npy"), "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "bertc embed: warning: <stdin>: no input texts; writing an empty (0, 128) output\n");
  EXPECT_EQ(read_npy(dir / "e.npy").shape, (std::vector<int64_t>{0, 128}));
  r = run_bertc("similarity " + tiny() + " -q --format csv", "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: <stdin>: no texts"), std::string::npos) << r.err;
}

TEST(PolishCli, TokensComeWithTheirIdsAndWordpieces) {
  const auto r = run_bertc("embed " + tiny() + " -q --pool tokens 'hello world'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = json_lines(r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["ids"], nlohmann::json({101, 7592, 2088, 102}));
  EXPECT_EQ(rows[0]["wordpieces"], nlohmann::json({"[CLS]", "hello", "world", "[SEP]"}));
  EXPECT_EQ(rows[0]["tokens"].size(), 4u);
}

// Class 4: CI runs exactly the README's test command, which does the set-up itself.
TEST(PolishCli, CiRunsTheReadmeTestCommand) {
  const std::string root = BERTC_SOURCE_DIR;
  const std::string ci = testing::read_file(root + "/.ci/run");
  EXPECT_NE(ci.find("exec tools/test.sh\n"), std::string::npos) << ci;
  const std::string readme = testing::read_file(root + "/README.md");
  EXPECT_NE(readme.find("examples/seed.sh      # "), std::string::npos);
  EXPECT_NE(readme.find("tools/test.sh         # "), std::string::npos);
  EXPECT_NE(testing::read_file(root + "/tools/test.sh").find("tools/setup.sh"), std::string::npos);
  EXPECT_NE(testing::read_file(root + "/examples/seed.sh").find("tools/setup.sh"), std::string::npos);
}

}  // namespace
}  // namespace bertc
