// bertc embed / validate / bench as a user runs them: exit codes, one-line errors on stderr, data
// on stdout, every output format, input order kept across internal batching, the truncation
// report, and atomic outputs (nothing left behind on failure).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine_test_util.h"
#include "common/npy.h"

namespace bertc {
namespace {

namespace fs = std::filesystem;
using testing::run_bertc;

std::string tiny_model() {
  // One thread: the tiny model gains nothing from more, and the tests run on a shared machine.
  return "-m '" + testing::converted_path(testing::fixture_model_dir("tiny-st"), "tiny-st") +
         "' --threads 1";
}

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) v.push_back(nlohmann::json::parse(line));
  return v;
}

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST(EmbedCli, JsonlToStdoutInInputOrder) {
  // Different lengths, so the length-sorted batching reorders them internally.
  const std::string texts = "a b c d e f g h\nshort\nthe middle one here\n";
  const auto r = run_bertc("embed " + tiny_model() + " -i - --pool mean,cls --max-length 16 --max-tokens 16 -q", texts);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const auto rows = json_lines(r.out);
  ASSERT_EQ(rows.size(), 3u);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["index"], i);
    EXPECT_EQ(rows[i]["mean"].size(), 128u);
    EXPECT_EQ(rows[i]["cls"].size(), 128u);
  }
  // Each text alone gives the same numbers, printed identically (same bits).
  const auto alone = run_bertc("embed " + tiny_model() + " --pool mean,cls -q short");
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  const auto a = json_lines(alone.out);
  EXPECT_EQ(a[0]["mean"], rows[1]["mean"]);
  EXPECT_EQ(a[0]["cls"], rows[1]["cls"]);
}

TEST(EmbedCli, NpyPerModeAndTsvAgreeWithJsonl) {
  const fs::path dir = testing::scratch_dir() / "npy";
  fs::create_directories(dir);
  const std::string args = " " + tiny_model() + " -q \"first text\" 'second, longer text' third ";
  const auto r = run_bertc("embed" + args + "--pool mean,pooled -o '" + (dir / "out.npy").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const NpyArray mean = read_npy((dir / "out.mean.npy").string());
  const NpyArray pooled = read_npy((dir / "out.pooled.npy").string());
  EXPECT_EQ(mean.shape, (std::vector<int64_t>{3, 128}));
  EXPECT_EQ(pooled.shape, (std::vector<int64_t>{3, 128}));

  const auto j = run_bertc("embed" + args + "--pool mean --format jsonl");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const auto rows = json_lines(j.out);
  ASSERT_EQ(rows.size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    for (size_t h = 0; h < 128; ++h) ASSERT_EQ(rows[i]["mean"][h].get<float>(), mean.data[i * 128 + h]);

  const auto t = run_bertc("embed" + args + "--pool mean --format tsv");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(count_lines(t.out), 3);
  std::istringstream first(t.out.substr(0, t.out.find('\n')));
  float v = 0;
  for (size_t h = 0; h < 128; ++h) {
    ASSERT_TRUE(first >> v);
    ASSERT_EQ(v, mean.data[h]);
  }
  const auto tsv_file = run_bertc("embed" + args + "--pool mean -o '" + (dir / "out.tsv").string() + "'");
  ASSERT_EQ(tsv_file.exit_code, 0) << tsv_file.err;
  EXPECT_EQ(testing::read_file(dir / "out.tsv"), t.out);
}

TEST(EmbedCli, JsonlInputsPairsAndIds) {
  const std::string in =
      "{\"text\": \"hello world\"}\n"
      "{\"text_a\": \"hello\", \"text_b\": \"world\"}\n"
      "{\"input_ids\": [101, 7592, 2088, 102]}\n";
  const auto r = run_bertc("embed " + tiny_model() + " --input-format jsonl --pool cls -q", in);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = json_lines(r.out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["cls"], rows[2]["cls"]);  // the same ids, tokenized or given
  EXPECT_NE(rows[0]["cls"], rows[1]["cls"]);  // the pair has [SEP] in the middle and type ids 1
}

TEST(EmbedCli, PerTokenStatesAndLayers) {
  const auto r = run_bertc("embed " + tiny_model() + " --pool tokens,mean --layer 0 -q 'hello world' hi");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = json_lines(r.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["tokens"].size(), 4u);  // [CLS] hello world [SEP]
  EXPECT_EQ(rows[1]["tokens"].size(), 3u);
  EXPECT_EQ(rows[0]["tokens"][1].size(), 128u);
  const auto last = run_bertc("embed " + tiny_model() + " --pool mean --layer -1 -q 'hello world'");
  ASSERT_EQ(last.exit_code, 0) << last.err;
  EXPECT_NE(json_lines(last.out)[0]["mean"], rows[0]["mean"]);  // layer 0 is the embeddings output

  // Flags the model cannot satisfy are usage errors (exit 2), found before any work.
  auto e = run_bertc("embed " + tiny_model() + " --pool pooled --layer 1 -q x");
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_NE(e.err.find("the pooler applies to the last layer only"), std::string::npos) << e.err;
  e = run_bertc("embed " + tiny_model() + " --layer 3 -q x");
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_NE(e.err.find("--layer 3: the model has 2 layers"), std::string::npos) << e.err;
  e = run_bertc("embed " + tiny_model() + " --pool tokens -o '" + (testing::scratch_dir() / "t.npy").string() + "' x");
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_NE(e.err.find("needs jsonl output"), std::string::npos) << e.err;
}

TEST(EmbedCli, TruncationReportAndOnLongError) {
  const std::string texts = "one two\nthis text is far longer than eight tokens allow\n";
  const auto r = run_bertc("embed " + tiny_model() + " -i - --max-length 8 -q", texts);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "bertc embed: 1 of 2 inputs truncated to 8 tokens (--on-long error|window to change)\n");

  const fs::path out = testing::scratch_dir() / "long.npy";
  const auto e = run_bertc("embed " + tiny_model() + " -i - --max-length 8 --on-long error -o '" +
                               out.string() + "'", texts);
  EXPECT_EQ(e.exit_code, 1);
  EXPECT_EQ(count_lines(e.err), 1);
  EXPECT_NE(e.err.find("bertc: error: line 2: 12 tokens exceed the max length 8"), std::string::npos) << e.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out.string() + ".tmp"));

  const auto w = run_bertc("embed " + tiny_model() + " -i - --max-length 8 --on-long window --stride 3", texts);
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_NE(w.err.find("1 windowed"), std::string::npos) << w.err;
  EXPECT_EQ(json_lines(w.out).size(), 2u);
}

TEST(EmbedCli, BadInputsAreOneLineErrors) {
  auto r = run_bertc("embed " + tiny_model() + " -i -", "fine\nbad \xff byte\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "bertc: error: <stdin>:2: invalid UTF-8 at byte 5 (byte above 0xF4; "
                   "--utf8-errors replace to go on)\n");

  r = run_bertc("embed " + tiny_model() + " --pool median x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 1);
  EXPECT_NE(r.err.find("unknown mode 'median'"), std::string::npos) << r.err;


  r = run_bertc("embed -m /nonexistent/model.bertc x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent/model.bertc"), std::string::npos) << r.err;

  r = run_bertc("embed " + tiny_model() + " --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("auto = the model's"), std::string::npos);
}

TEST(ValidateCli, PassesWithinToleranceAndFailsBelow) {
  const std::string ref = std::string(BERTC_TEST_DATA) + "/models/tiny-st/ref_sentences";
  auto r = run_bertc("validate " + tiny_model() + " --reference '" + ref + "'");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("hidden_states_0"), std::string::npos);
  EXPECT_NE(r.out.find("mean_pooled"), std::string::npos);
  r = run_bertc("validate " + tiny_model() + " --reference '" + ref + "' --atol 1e-12 --atol-pooled 1e-12");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("FAIL"), std::string::npos);
}

TEST(BenchCli, JsonlOnePerShape) {
  const auto r = run_bertc("bench --random tiny --shapes 1x8,2x16 --reps 1 --threads 1 --format jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = json_lines(r.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1]["batch"], 2);
  EXPECT_EQ(rows[1]["seq"], 16);
  for (const char* k : {"median_ms", "seq_per_s", "tok_per_s", "gflops", "peak_rss_mb"})
    EXPECT_TRUE(rows[0].contains(k)) << k;
  EXPECT_EQ(run_bertc("bench --shapes 1x8").exit_code, 2);  // neither -m nor --random
}

// --peer ort runs the peers folder's ort_bert.sh (a stand-in here that prints the peer's line
// format) and adds its median and the ratio; --profile adds one "#" line per op; bf16 runs on CPU.
TEST(BenchCli, PeerRatioProfileAndBf16) {
  const fs::path peers = testing::scratch_dir() / "peers";
  fs::create_directories(peers);
  {
    std::ofstream script(peers / "ort_bert.sh");
    script << "#!/bin/sh\necho '# stand-in ONNX Runtime'\n"
              "echo 'peer=ort B=1 S=8 threads=1 reps=5 median_ms=2.50 min_ms=2.40'\n";
  }
  fs::permissions(peers / "ort_bert.sh", fs::perms::owner_all);
  auto r = run_bertc("bench --random tiny --shapes 1x8 --reps 1 --threads 1 --format jsonl --peer ort "
                     "--peer-dir '" + peers.string() + "' --profile --dtype bf16");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> data, profile;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) (line[0] == '#' ? profile : data).push_back(line);
  ASSERT_EQ(data.size(), 1u) << r.out;
  const auto row = nlohmann::json::parse(data[0]);
  EXPECT_EQ(row["dtype"], "bf16");
  EXPECT_DOUBLE_EQ(row["ort_median_ms"].get<double>(), 2.5);
  // median_ms is printed to 4 decimals: the ratio recomputed from it agrees to ~4e-4 relative.
  const double ratio = 2.5 / row["median_ms"].get<double>();
  EXPECT_NEAR(row["speedup_vs_ort"].get<double>(), ratio, 1e-3 * ratio);
  EXPECT_TRUE(row.contains("pct_fma_peak"));
  EXPECT_NE(r.out.find("gemm_bias_gelu"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("attention"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("stand-in ONNX Runtime"), std::string::npos) << r.err;

  r = run_bertc("bench --random tiny --shapes 1x8 --reps 1 --peer ort --peer-dir '" +
                (peers / "absent").string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("ort_bert.sh: not found"), std::string::npos) << r.err;
}

// A ragged shape (BATCHxMIN-MAX: lengths uniform in MIN..MAX) and --check, which encodes each
// sequence alone and compares mean-pooled vectors with the batch's, printing one "#" line per
// shape (on the CPU a sequence gives the same bits alone: cosine 1).
TEST(BenchCli, RaggedShapesAndCheck) {
  auto r = run_bertc("bench --random tiny --shapes 3x2-9,2x5 --reps 1 --threads 1 --format jsonl --check");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> data, checks;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) (line[0] == '#' ? checks : data).push_back(line);
  ASSERT_EQ(data.size(), 2u) << r.out;
  const auto ragged = nlohmann::json::parse(data[0]);
  EXPECT_EQ(ragged["shape"], "3x2-9");
  EXPECT_EQ(ragged["batch"], 3);
  EXPECT_GE(ragged["tokens"].get<int>(), 6);
  EXPECT_LE(ragged["tokens"].get<int>(), 27);
  EXPECT_EQ(nlohmann::json::parse(data[1])["tokens"], 10);
  ASSERT_EQ(checks.size(), 2u) << r.out;
  EXPECT_NE(checks[0].find("check 3x2-9: batch vs alone over 3 sequences: min cosine 1.0000000"),
            std::string::npos) << checks[0];
  EXPECT_NE(checks[1].find(": ok"), std::string::npos) << checks[1];
  for (const char* bad : {"3x9-2", "3x2-", "3x-9", "0x2-9"})
    EXPECT_EQ(run_bertc(std::string("bench --random tiny --shapes ") + bad).exit_code, 2) << bad;
}

}  // namespace
}  // namespace bertc
