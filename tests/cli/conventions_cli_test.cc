// Issue 14, class 2: one behaviour for one idea, in every command that has the idea: blank
// lines, the input format, stdin, flag names (old spellings still working with a note), default
// modes, invalid UTF-8, exit codes, a word-vector file given as a model, and search --index
// reopening the models an index was built with.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/npy.h"
#include "engine_test_util.h"
#include "tests/weights/weights_test_util.h"

namespace bertc {
namespace {

namespace fs = std::filesystem;
using testing::run_bertc;

std::string q(const std::string& s) { return testing::shell_quote(s); }

// -m for tokenize; tiny() adds --threads for the commands that run the model.
std::string tiny_m() { return "-m " + q(testing::converted_path(testing::fixture_model_dir("tiny-st"), "tiny-st")); }
std::string tiny() { return tiny_m() + " --threads 1"; }

const std::string& glove() {
  static const std::string path = [] {
    const std::string out = (testing::scratch_dir() / "glove.bertc").string();
    EXPECT_EQ(run_bertc("convert -q " + q(std::string(BERTC_TEST_DATA) + "/glove/glove_twitter_25d.w2v.bin") +
                        " -o " + q(out)).exit_code, 0);
    return out;
  }();
  return path;
}

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) v.push_back(nlohmann::json::parse(line));
  return v;
}

TEST(ConventionsCli, BlankLinesAreKeptSoRowsAreLineNumbers) {
  testing::TempDir dir;
  const std::string file = dir.write("blank.txt", "the river bank\n\nmoney in the bank\n");
  auto r = run_bertc("embed " + tiny() + " -i " + q(file));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json_lines(r.out).size(), 3u);
  EXPECT_NE(r.err.find(file + ": 1 blank lines"), std::string::npos) << r.err;
  r = run_bertc("similarity " + tiny() + " -q --format npy -o " + q(dir / "sim.npy") + " -i " + q(file));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_npy(dir / "sim.npy").shape, (std::vector<int64_t>{3, 3}));
  // search's "index" is the line number - 1, so "money in the bank" (line 3) is index 2.
  r = run_bertc("search --w2v " + q(glove()) + " -q --format jsonl -k 1 --corpus " + q(file) + " money");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json_lines(r.out)[0]["index"], 2);
  r = run_bertc("index build --w2v " + q(glove()) + " -q --corpus " + q(file) + " -o " + q(dir / "idx"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_npy(dir / "idx/w2v.npy").shape, (std::vector<int64_t>{3, 25}));
  // JSON lines need an object on every line: a blank one is an error naming it.
  const std::string jsonl = dir.write("blank.jsonl", "{\"text\": \"a\"}\n\n");
  for (const std::string& cmd : {"embed " + tiny() + " -i " + q(jsonl),
                                 "search --w2v " + q(glove()) + " --corpus " + q(jsonl) + " x"}) {
    r = run_bertc(cmd);
    EXPECT_EQ(r.exit_code, 1) << cmd;
    EXPECT_EQ(r.err, "bertc: error: " + jsonl + ":2: blank line (JSON lines need one object per line)\n") << cmd;
  }
}

TEST(ConventionsCli, JsonlByExtensionEverywhereAndOverridable) {
  testing::TempDir dir;
  const std::string jsonl = dir.write("in.jsonl", "{\"text\": \"the river bank\", \"id\": \"r\"}\n"
                                                  "{\"text\": \"money\", \"id\": \"m\"}\n");
  const auto plain = run_bertc("embed " + tiny() + " -q 'the river bank' money");
  const auto by_ext = run_bertc("embed " + tiny() + " -q -i " + q(jsonl));
  ASSERT_EQ(by_ext.exit_code, 0) << by_ext.err;
  EXPECT_EQ(by_ext.out, plain.out);  // the "text" fields were embedded, not the JSON
  const auto as_text = run_bertc("embed " + tiny() + " -q --input-format text -i " + q(jsonl));
  ASSERT_EQ(as_text.exit_code, 0) << as_text.err;
  EXPECT_NE(as_text.out, plain.out);
  // The same file as similarity rows and as a search corpus (with its ids).
  auto r = run_bertc("similarity --w2v " + q(glove()) + " -q --format csv -i " + q(jsonl));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3);  // header + 2 rows
  r = run_bertc("search --w2v " + q(glove()) + " -q --format jsonl -k 1 --corpus " + q(jsonl) + " money");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json_lines(r.out)[0]["id"], "m");
  // stdin is plain text unless told otherwise.
  r = run_bertc("embed " + tiny() + " -q --input-format jsonl", "{\"text\": \"money\"}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, run_bertc("embed " + tiny() + " -q money").out);
}

TEST(ConventionsCli, StdinIsReadWhenNoTextsAreGiven) {
  const std::string texts = "the river bank\nmoney\n";
  auto r = run_bertc("embed " + tiny() + " -q", texts);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json_lines(r.out).size(), 2u);
  r = run_bertc("similarity " + tiny() + " -q --format csv", texts);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3);
  testing::TempDir dir;
  const std::string corpus = dir.write("c.txt", "a river\nthe money\n");
  r = run_bertc("search --w2v " + q(glove()) + " -q --format jsonl -k 1 --corpus " + q(corpus), texts);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json_lines(r.out).size(), 2u);  // one hit per query line
  r = run_bertc("tokenize " + tiny_m(), texts);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2);
}

TEST(ConventionsCli, OneFlagNamePerConceptWithOldSpellingsNoted) {
  testing::TempDir dir;
  const std::string corpus = dir.write("c.txt", "a river\nthe money\nthe bank\n");
  const std::string search = "search " + tiny() + " --format jsonl -k 1 --corpus " + q(corpus) + " river ";
  const auto by_pool = run_bertc(search + "--pool mean,cls");
  ASSERT_EQ(by_pool.exit_code, 0) << by_pool.err;
  const auto by_modes = run_bertc(search + "--modes mean,cls");
  ASSERT_EQ(by_modes.exit_code, 0) << by_modes.err;
  EXPECT_EQ(by_modes.out, by_pool.out);
  EXPECT_NE(by_modes.err.find("bertc search: note: --modes is deprecated, use --pool"), std::string::npos)
      << by_modes.err;
  // index build: --dtype is the run precision as everywhere, --store-dtype the storage.
  const std::string build = "index build " + tiny() + " -q --corpus " + q(corpus) + " ";
  auto r = run_bertc(build + "--dtype bf16 --store-dtype f16 -o " + q(dir / "i1"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(testing::read_file(dir / "i1/manifest.json"))["dtype"], "f16");
  r = run_bertc(build + "--run-dtype bf16 -o " + q(dir / "i2"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("--run-dtype is deprecated, use --dtype"), std::string::npos) << r.err;
  r = run_bertc(build + "--dtype f16 -o " + q(dir / "i3"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--store-dtype f16"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "i3"));
  // tokenize --jsonl still works, with a note.
  r = run_bertc("tokenize " + tiny_m() + " --jsonl", "{\"text\": \"hi\"}\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("--jsonl is deprecated, use --input-format jsonl"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, run_bertc("tokenize " + tiny_m() + " --input-format jsonl", "{\"text\": \"hi\"}\n").out);
}

TEST(ConventionsCli, DefaultModesAreTheModelsOwnPooling) {
  testing::TempDir dir;
  const std::string corpus = dir.write("c.txt", "a river\nthe money\n");
  // tiny-st has no sentence-transformers config: auto is mean (and no pooled column).
  auto r = run_bertc("search " + tiny() + " -q --format jsonl -k 1 --corpus " + q(corpus) + " river");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = json_lines(r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["mode"], "mean");
  r = run_bertc("similarity " + tiny() + " a b");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, 5), "mean\n");
  // The help of every command with modes states the default the code runs.
  for (const char* cmd : {"similarity", "search", "index build"}) {
    r = run_bertc(std::string(cmd) + " --help");
    EXPECT_NE(r.out.find("default: auto, plus w2v with --w2v"), std::string::npos) << cmd << r.out;
  }
  // all-MiniLM-L6-v2 pools by mean + normalize: its default is mean, its pooler column gone.
  const std::string minilm = testing::converted_path(testing::minilm_dir(), "minilm");
  r = run_bertc("search -m " + q(minilm) + " --threads 1 -k 1 --corpus " + q(corpus) + " river");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("pooled"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  mean"), std::string::npos) << r.out;
}

TEST(ConventionsCli, SearchIndexReopensTheModelsItWasBuiltWith) {
  testing::TempDir dir;
  const std::string corpus = dir.write("c.txt", "the river bank\nmoney in the bank\na cat\n");
  const std::string w2v = dir / "words.bertc";
  fs::copy_file(glove(), w2v);
  auto r = run_bertc("index build " + tiny() + " --w2v " + q(w2v) + " -q --corpus " + q(corpus) + " -o " +
                     q(dir / "idx"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // No -m or --w2v: both come from the index, so both modes are searched.
  r = run_bertc("search --index " + q(dir / "idx") + " --threads 1 -q --format jsonl -k 1 river");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = json_lines(r.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["mode"], "mean");
  EXPECT_EQ(rows[1]["mode"], "w2v");
  // The word vectors gone: the BERT mode is still searched, with a note.
  fs::remove(w2v);
  r = run_bertc("search --index " + q(dir / "idx") + " --threads 1 --format jsonl -k 1 river");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  rows = json_lines(r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["mode"], "mean");
  EXPECT_NE(r.err.find("mode w2v left out"), std::string::npos) << r.err;
  // Asked for explicitly, it is an error naming the flag.
  r = run_bertc("search --index " + q(dir / "idx") + " --pool w2v -k 1 river");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "bertc search: error: --pool w2v needs --w2v W2V.bertc\n");
}

TEST(ConventionsCli, InvalidUtf8HasOneMessageEverywhereAndReplaceWorks) {
  testing::TempDir dir;
  const std::string file = dir.write("bad.txt", "fine\nab\xC0\xAF" "cd\n");
  const std::string corpus = dir.write("c.txt", "a river\nthe money\n");
  const std::string want = "bertc: error: " + file + ":2: invalid UTF-8 at byte 3 (overlong encoding; "
                           "--utf8-errors replace to go on)\n";
  const std::vector<std::string> commands = {
      "embed " + tiny() + " -i " + q(file),
      "similarity " + tiny() + " -i " + q(file),
      "similarity --w2v " + q(glove()) + " -i " + q(file),  // word vectors refuse it too
      "search --w2v " + q(glove()) + " --corpus " + q(file) + " x",
      "search --w2v " + q(glove()) + " --corpus " + q(corpus) + " --queries " + q(file),
      "index build --w2v " + q(glove()) + " --corpus " + q(file) + " -o " + q(dir / "idx"),
      "tokenize " + tiny_m() + " -i " + q(file),
  };
  for (const std::string& cmd : commands) {
    auto r = run_bertc(cmd);
    EXPECT_EQ(r.exit_code, 1) << cmd;
    EXPECT_EQ(r.err, want) << cmd;
    r = run_bertc(cmd + " -q --utf8-errors replace");
    EXPECT_EQ(r.exit_code, 0) << cmd << ": " << r.err;
  }
  // stdin and arguments name themselves the same way.
  auto r = run_bertc("embed " + tiny(), "ok\n\xFF\n");
  EXPECT_EQ(r.err, "bertc: error: <stdin>:2: invalid UTF-8 at byte 1 (byte above 0xF4; --utf8-errors "
                   "replace to go on)\n");
  r = run_bertc("similarity --w2v " + q(glove()) + " ok \"$(printf '\\377')\"");
  EXPECT_NE(r.err.find("argument 2: invalid UTF-8 at byte 1"), std::string::npos) << r.err;
}

TEST(ConventionsCli, UsageErrorsExit2AndNeverBlameTheModel) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"embed " + tiny() + " --threads abc x", "bertc embed: error: --threads: 'abc' is not an integer\n"},
      {"embed " + tiny() + " --max-length abc x", "bertc embed: error: --max-length: 'abc' is not an integer\n"},
      {"search --corpus x -k 1.5 q", "bertc search: error: --top-k: '1.5' is not an integer\n"},
      {"embed " + tiny() + " --pool '' x", "bertc embed: error: --pool: no mode given (pooled, mean, cls, max, auto, tokens)\n"},
      {"similarity " + tiny() + " --pool '' x", "bertc similarity: error: --pool: no mode given (auto, pooled, mean, cls, max, w2v)\n"},
      {"embed " + tiny() + " --max-length 1 x", "bertc embed: error: --max-length 1: must be between 3 and the model's 512 positions\n"},
      {"embed " + tiny() + " --max-tokens 100 x",
       "bertc embed: error: --max-tokens 100 is smaller than the max length 512: a long input would not fit in a "
       "batch (raise --max-tokens or lower --max-length)\n"},
      {"embed " + tiny() + " --layer 9 x", "bertc embed: error: --layer 9: the model has 2 layers (0..2, or -1..-3 from the top)\n"},
      {"embed " + tiny() + " --stride 4 x", "bertc embed: error: --stride applies to --on-long window only\n"},
      {"embed " + tiny() + " --on-long never x", "bertc embed: error: --on-long: never not in {truncate,error,window}\n"},
  };
  for (const auto& [cmd, err] : cases) {
    const auto r = run_bertc(cmd);
    EXPECT_EQ(r.exit_code, 2) << cmd;
    EXPECT_EQ(r.err, err) << cmd;
  }
}

TEST(ConventionsCli, AWordVectorFileIsNotAModel) {
  const auto r = run_bertc("embed -m " + q(glove()) + " x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "bertc: error: " + glove() + ": is a word-vector file, not a BERT model; give it with "
                   "--w2v (similarity, search, index build), and a BERT model with -m\n");
  // A word2vec text file whose header's dim disagrees with its lines says which.
  testing::TempDir dir;
  const std::string text = dir.write("bad_header.txt", "2 3\nriver 0.1 0.2 0.3 0.4\nbank 1 2 3 4\n");
  const auto c = run_bertc("convert -q " + q(text) + " -o " + q(dir / "w.bertc"));
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_EQ(c.err, "bertc: error: " + text + ": line 2 has 4 values, expected 3 (the header's dim)\n");
}

}  // namespace
}  // namespace bertc
