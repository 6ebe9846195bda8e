// CLI tests for word2vec conversion, `bertc similarity` and `bertc search`: exit codes, one-line
// errors naming the file, no output left behind, and the tiny-st BERT modes against the
// reference bundle (sim_*.npy, search.json) through the built binary.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/npy.h"
#include "test_util.h"

namespace bertc {
namespace {

namespace fs = std::filesystem;

const std::string kData = BERTC_TEST_DATA;
const std::string kRef = kData + "/models/tiny-st/ref_sentences/";

using test::read_file;

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

class SearchCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("bertc_search_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    ASSERT_EQ(run("convert " + kData + "/glove/glove_twitter_25d.w2v.bin -o " + path("glove.bertc") + " -q").exit_code, 0);
    ASSERT_EQ(run("convert " + kData + "/models/tiny-st/model -o " + path("tiny.bertc") + " -q").exit_code, 0);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string path(const std::string& name) { return (dir_ / name).string(); }
  static std::string write(const std::string& name, const std::string& bytes) {
    std::ofstream(path(name), std::ios::binary) << bytes;
    return path(name);
  }
  static test::CliResult run(const std::string& args) { return test::run_bertc_args(args); }

  static fs::path dir_;
};
fs::path SearchCli::dir_;

TEST_F(SearchCli, ConvertMalformedWord2VecFailsWithOneLine) {
  std::string bad = write("bad.bin", std::string("3 2\nab ") + std::string(8, '\0') + "\ncd \x01");
  test::CliResult r = run("convert " + bad + " -o " + path("bad.bertc"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "bertc: error: " + bad + ": record 2 of 3 is truncated\n");
  EXPECT_FALSE(fs::exists(path("bad.bertc")));
  EXPECT_FALSE(fs::exists(path("bad.bertc.tmp")));
  r = run("convert " + bad + " -o " + path("bad.bertc") + " --dtype bf16");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
}

TEST_F(SearchCli, ConvertLimitAndInspect) {
  test::CliResult r = run("convert " + kData + "/glove/glove_twitter_25d.w2v.txt -o " + path("g10.bertc") +
              " --limit 10 --dtype f16 --normalize");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("10 words x 25"), std::string::npos) << r.err;
  r = run("inspect " + path("g10.bertc"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("word2vec"), std::string::npos) << r.out;
}

TEST_F(SearchCli, SimilarityWord2VecTable) {
  test::CliResult r = run("similarity --w2v " + path("glove.bertc") + " 'the river bank' 'a bank of the river' 'qqqq'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines;
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0], "w2v");
  EXPECT_EQ(lines[1], "          0         1         2");
  // A text with no known word: a zero vector, cosine 0 (not NaN), and a warning.
  EXPECT_EQ(lines[4], "2  0.000000  0.000000  0.000000");
  EXPECT_NE(r.err.find("text 3 has no word in the vocabulary"), std::string::npos) << r.err;
}

TEST_F(SearchCli, SimilarityBertMatchesReference) {
  std::ifstream in(kRef + "inputs.json");
  nlohmann::json inputs = nlohmann::json::parse(in);
  std::string text;
  for (const auto& s : inputs["sentences"]) text += s.get<std::string>() + "\n";
  std::string file = write("sentences.txt", text);
  test::CliResult r = run("similarity -m " + path("tiny.bertc") + " --pool pooled,mean,cls -i " + file +
              " --format npy -o " + path("sim.npy") + " -q");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* mode : {"pooled", "mean", "cls"}) {
    SCOPED_TRACE(mode);
    NpyArray got = read_npy(path(std::string("sim.") + mode + ".npy"));
    NpyArray want = read_npy(kRef + "sim_" + mode + ".npy");
    ASSERT_EQ(got.shape, want.shape);
    // Cosines from the float32 engine: the bundle's stated tolerance for cosines is 1e-5.
    test::expect_close(got.data, want.data, 1e-5, 0);
  }
}

TEST_F(SearchCli, SearchBertReproducesReferenceRankings) {
  std::ifstream in(kRef + "search.json");
  nlohmann::json ref = nlohmann::json::parse(in);
  std::ifstream in2(kRef + "inputs.json");
  nlohmann::json inputs = nlohmann::json::parse(in2);
  std::string corpus, queries;
  for (const auto& row : ref["corpus_rows"]) corpus += inputs["sentences"][row.get<int>()].get<std::string>() + "\n";
  for (const auto& row : ref["query_rows"]) queries += inputs["sentences"][row.get<int>()].get<std::string>() + "\n";
  test::CliResult r = run("search -m " + path("tiny.bertc") + " --pool pooled,mean,cls -k 9 --format jsonl --corpus " +
              write("corpus.txt", corpus) + " --queries " + write("queries.txt", queries) + " -q");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<nlohmann::json> rows;
  std::istringstream lines(r.out);
  for (std::string l; std::getline(lines, l);) rows.push_back(nlohmann::json::parse(l));
  ASSERT_EQ(rows.size(), 3u * 3u * 9u);
  for (const auto& j : rows) {
    const std::string mode = j["mode"];
    int q = -1;
    for (int i = 0; i < 3; ++i)
      if (ref["results"][mode][i]["query"] == j["query"]) q = i;
    ASSERT_GE(q, 0) << j.dump();
    const auto& ranking = ref["results"][mode][q]["ranking"];
    const int rank = j["rank"].get<int>() - 1;
    EXPECT_NEAR(j["score"].get<double>(), ranking[rank]["cosine"].get<double>(), 1e-5) << j.dump();
    // Where both neighbours are more than the tolerance away, the position is fixed.
    const bool fixed_above = rank == 0 || ranking[rank - 1]["gap_to_next"].get<double>() > 1e-5;
    const bool fixed_below = !ranking[rank]["gap_to_next"].is_number() ||
                             ranking[rank]["gap_to_next"].get<double>() > 1e-5;
    if (fixed_above && fixed_below) {
      EXPECT_EQ(j["index"].get<int>(), ranking[rank]["corpus_index"].get<int>()) << j.dump();
    }
    EXPECT_EQ(j["text"], inputs["sentences"][ref["corpus_rows"][j["index"].get<int>()].get<int>()]);
  }
}

TEST_F(SearchCli, SearchWord2VecJsonlWithIds) {
  std::string corpus = write("c.jsonl", "{\"text\": \"the river bank\", \"id\": \"a\"}\n"
                                        "{\"text\": \"money in the bank\", \"id\": \"b\"}\n"
                                        "{\"text\": \"a cat\", \"id\": \"c\"}\n");
  test::CliResult r = run("search --w2v " + path("glove.bertc") + " --corpus " + corpus +
              " -k 2 --format jsonl 'river' 'cash money'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<nlohmann::json> rows;
  for (std::string l; std::getline(lines, l);) rows.push_back(nlohmann::json::parse(l));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["query"], "river");
  EXPECT_EQ(rows[0]["mode"], "w2v");
  EXPECT_EQ(rows[0]["rank"], 1);
  EXPECT_EQ(rows[0]["id"], "a");
  EXPECT_EQ(rows[2]["id"], "b");
}

TEST_F(SearchCli, IndexBuildResumeAndSearch) {
  std::string corpus = write("ic.txt", "the river bank\nmoney in the bank\na cat\nthe dog\nriver water\n");
  std::string index = path("idx");
  // Chunks of 2 documents; searching through the index equals searching the corpus directly.
  test::CliResult r = run("index build --corpus " + corpus + " --w2v " + path("glove.bertc") + " --chunk 2 -o " + index + " -q");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(index + "/w2v.npy"));
  EXPECT_FALSE(fs::exists(index + "/w2v.chunk-00000.npy"));
  NpyArray m = read_npy(index + "/w2v.npy");
  EXPECT_EQ(m.shape, (std::vector<int64_t>{5, 25}));
  test::CliResult via_index = run("search --index " + index + " --w2v " + path("glove.bertc") + " -k 3 --format jsonl river 'cash money'");
  test::CliResult via_corpus = run("search --corpus " + corpus + " --w2v " + path("glove.bertc") + " -k 3 --format jsonl river 'cash money'");
  ASSERT_EQ(via_index.exit_code, 0) << via_index.err;
  EXPECT_EQ(via_index.out, via_corpus.out);
  // A second build finds the index complete; another corpus in the same directory is refused.
  EXPECT_EQ(run("index build --corpus " + corpus + " --w2v " + path("glove.bertc") + " --chunk 2 -o " + index).exit_code, 0);
  r = run("index build --corpus " + write("other.txt", "x\n") + " --w2v " + path("glove.bertc") + " --chunk 2 -o " + index);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  // An interrupted build: not complete, chunk 0 already on disk (written here with its two rows
  // swapped, so its reuse is visible), the joined matrix not yet written.
  {
    nlohmann::json man = nlohmann::json::parse(read_file(index + "/manifest.json"));
    man["complete"] = false;
    man.erase("dims");
    std::ofstream(index + "/manifest.json") << man.dump(2);
    fs::remove(index + "/w2v.npy");
    std::vector<float> chunk(m.data.begin() + 25, m.data.begin() + 50);
    chunk.insert(chunk.end(), m.data.begin(), m.data.begin() + 25);
    write_npy(index + "/w2v.chunk-00000.npy", chunk.data(), {2, 25});
  }
  r = run("search --index " + index + " --w2v " + path("glove.bertc") + " river");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("did not finish"), std::string::npos) << r.err;
  r = run("index build --corpus " + corpus + " --w2v " + path("glove.bertc") + " --chunk 2 -o " + index);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("resuming"), std::string::npos) << r.err;
  NpyArray resumed = read_npy(index + "/w2v.npy");
  EXPECT_EQ(std::vector<float>(resumed.data.begin(), resumed.data.begin() + 25),
            std::vector<float>(m.data.begin() + 25, m.data.begin() + 50));  // chunk 0 was reused
  EXPECT_EQ(std::vector<float>(resumed.data.begin() + 50, resumed.data.end()),
            std::vector<float>(m.data.begin() + 50, m.data.end()));  // the rest recomputed
  // Another model than the one the index was built with is refused.
  ASSERT_EQ(run("convert " + kData + "/glove/glove_twitter_25d.w2v.bin -o " + path("g100.bertc") + " --limit 100 -q").exit_code, 0);
  r = run("search --index " + index + " --w2v " + path("g100.bertc") + " river");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("was built with another model"), std::string::npos) << r.err;
}

TEST_F(SearchCli, IndexF16MatchesF32Ranking) {
  std::string corpus = write("ic16.txt", "the river bank\nmoney in the bank\na cat\nthe dog\nriver water\n");
  ASSERT_EQ(run("index build --corpus " + corpus + " --w2v " + path("glove.bertc") + " --store-dtype f16 -o " + path("idx16") + " -q").exit_code, 0);
  test::CliResult r = run("search --index " + path("idx16") + " --w2v " + path("glove.bertc") + " -k 5 --format jsonl river");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  test::CliResult want = run("search --corpus " + corpus + " --w2v " + path("glove.bertc") + " -k 5 --format jsonl river");
  std::istringstream a(r.out), b(want.out);
  for (std::string la, lb; std::getline(a, la) && std::getline(b, lb);) {
    nlohmann::json ja = nlohmann::json::parse(la), jb = nlohmann::json::parse(lb);
    EXPECT_EQ(ja["index"], jb["index"]);
    // f16 keeps 11 significant bits per component: cosines move by ~1e-3 at most.
    EXPECT_NEAR(ja["score"].get<double>(), jb["score"].get<double>(), 2e-3);
  }
}

TEST_F(SearchCli, UsageAndInputErrors) {
  test::CliResult r = run("search --w2v " + path("glove.bertc") + " river");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "bertc search: error: --corpus FILE or --index INDEX is required\n");
  r = run("search --corpus " + path("missing.txt") + " --w2v " + path("glove.bertc") + " river");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "bertc: error: " + path("missing.txt") + ": cannot open\n");
  r = run("similarity --pool w2v x y");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "bertc similarity: error: --pool w2v needs --w2v W2V.bertc\n");
  r = run("search --corpus " + write("bad.jsonl", "{\"txt\": 1}\n") + " --w2v " + path("glove.bertc") + " q");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("bad.jsonl:1: expected an object"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace bertc
