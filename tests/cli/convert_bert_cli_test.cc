// `bertc convert` (BERT folders) run as a user would: exit code, one-line stderr naming the file
// and the problem, stdout, and that a refused conversion leaves neither OUT nor OUT.tmp.
#include <gtest/gtest.h>

#include <cstring>

#include "tests/weights/weights_test_util.h"

namespace bertc {
namespace {

namespace fs = std::filesystem;
using testing::RunResult;
using testing::run_bertc;
using testing::SafetensorsBuilder;
using testing::TempDir;
using testing::TinyBert;
using testing::write_file;

class ConvertCli : public ::testing::Test {
 protected:
  void SetUp() override { TinyBert().write_folder(model_); }
  RunResult convert() { return run_bertc({"convert", model_, "-o", out_}); }
  // Exit 1, one stderr line "bertc: error: FILE: ...PART...", nothing on stdout, no output file.
  void expect_refused(const std::string& file, const std::string& part) {
    RunResult r = convert();
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(testing::count_lines(r.err), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("bertc: error: " + file + ": ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(part), std::string::npos) << "'" << part << "' not in: " << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(fs::exists(out_)) << "output left behind";
    EXPECT_FALSE(fs::exists(out_ + ".tmp")) << "temp file left behind";
  }
  void set_weights(const std::string& bytes) { write_file(model_ + "/model.safetensors", bytes); }
  std::string weights() const { return model_ + "/model.safetensors"; }

  TempDir dir_;
  std::string model_ = dir_ / "model";
  std::string out_ = dir_ / "out.bertc";
};

TEST_F(ConvertCli, ConvertsAndInspects) {
  RunResult r = convert();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");  // data only on stdout, and convert has none
  EXPECT_NE(r.err.find("wrote " + out_), std::string::npos) << r.err;
  RunResult i = run_bertc({"inspect", out_, "--verify"});
  ASSERT_EQ(i.exit_code, 0) << i.err;
  EXPECT_NE(i.out.find("kind bert"), std::string::npos) << i.out;
  EXPECT_NE(i.out.find("hidden 8, layers 1, heads 2, intermediate 16, vocab 12"), std::string::npos) << i.out;
  EXPECT_NE(i.out.find("vocab:        12 tokens"), std::string::npos) << i.out;
  EXPECT_NE(i.out.find("tensors:      25,"), std::string::npos) << i.out;  // 5 + 16 + 2 weights, 2 vocab
  EXPECT_NE(i.out.find("encoder.layer.0.intermediate.dense.weight"), std::string::npos) << i.out;
  EXPECT_NE(i.out.find("checksums:    ok"), std::string::npos) << i.out;
}

TEST_F(ConvertCli, InspectJson) {
  ASSERT_EQ(run_bertc({"convert", model_, "-o", out_, "--dtype", "bf16", "-q"}).exit_code, 0);
  RunResult i = run_bertc({"inspect", out_, "--json"});
  ASSERT_EQ(i.exit_code, 0) << i.err;
  nlohmann::json j = nlohmann::json::parse(i.out);
  EXPECT_EQ(j["kind"], "bert");
  EXPECT_EQ(j["format_version"], 1);
  EXPECT_EQ(j["config"]["hidden_size"], 8);
  EXPECT_EQ(j["vocab_size"], 12);
  EXPECT_TRUE(j["pooling"].is_null());
  EXPECT_EQ(j["checksums"], "not verified");
  EXPECT_EQ(j["file_nbytes"], fs::file_size(out_));
  ASSERT_EQ(j["tensors"].size(), 25u);
  EXPECT_EQ(j["tensors"][0]["name"], "embeddings.word_embeddings.weight");
  EXPECT_EQ(j["tensors"][0]["dtype"], "bf16");
  EXPECT_EQ(j["tensors"][0]["shape"], nlohmann::json({12, 8}));
}

TEST_F(ConvertCli, OverwritesAnEarlierOutputOnlyOnSuccess) {
  write_file(out_, "previous");
  ASSERT_EQ(convert().exit_code, 0);
  EXPECT_NE(testing::read_file(out_), "previous");
}

TEST_F(ConvertCli, UsageErrorsExit2) {
  RunResult r = run_bertc({"convert", model_});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(testing::count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("--output"), std::string::npos) << r.err;
  EXPECT_EQ(run_bertc({"convert", model_, "-o", out_, "--dtype", "f8"}).exit_code, 2);
  RunResult h = run_bertc({"convert", "--help"});
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("--dtype"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("f32"), std::string::npos) << h.out;  // the default is shown
}

TEST_F(ConvertCli, NonDirectoryInput) {
  write_file(dir_ / "vectors.bin", "x");
  RunResult r = run_bertc({"convert", dir_ / "vectors.bin", "-o", out_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("bertc: error: " + (dir_ / "vectors.bin") + ": ", 0), 0u) << r.err;
  r = run_bertc({"convert", dir_ / "absent", "-o", out_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no such file or directory"), std::string::npos) << r.err;
}

TEST_F(ConvertCli, TruncatedAtEverySectionBoundary) {
  const std::string full = TinyBert().safetensors().build();
  uint64_t header_nbytes;
  std::memcpy(&header_nbytes, full.data(), 8);
  for (size_t cut : {size_t{0}, size_t{7}, size_t{8}, size_t{8 + header_nbytes / 2},
                     size_t{8 + header_nbytes}, size_t{8 + header_nbytes + 100}, full.size() - 1}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    set_weights(full.substr(0, cut));
    expect_refused(weights(), cut < 8 ? "too small" : cut < 8 + header_nbytes ? "past the end" : "truncated");
  }
}

TEST_F(ConvertCli, HugeHeaderLength) {
  set_weights(testing::u64_le(uint64_t{1} << 62) + "{}");
  expect_refused(weights(), "exceeds the safetensors limit");
}

TEST_F(ConvertCli, NonJsonHeader) {
  set_weights(SafetensorsBuilder::build_raw("{this is not json}", ""));
  expect_refused(weights(), "header is not valid JSON");
}

TEST_F(ConvertCli, OverlappingOffsets) {
  SafetensorsBuilder b = TinyBert().safetensors();
  b.header()["embeddings.LayerNorm.bias"]["data_offsets"][0] =
      b.header()["embeddings.LayerNorm.bias"]["data_offsets"][0].get<uint64_t>() - 4;
  b.header()["embeddings.LayerNorm.bias"]["data_offsets"][1] =
      b.header()["embeddings.LayerNorm.bias"]["data_offsets"][1].get<uint64_t>() - 4;
  set_weights(b.build());
  expect_refused(weights(), "overlap");
}

TEST_F(ConvertCli, OutOfRangeOffsets) {
  SafetensorsBuilder b = TinyBert().safetensors();
  b.header()["pooler.dense.bias"]["data_offsets"][0] = uint64_t{1} << 40;
  b.header()["pooler.dense.bias"]["data_offsets"][1] = (uint64_t{1} << 40) + 32;
  set_weights(b.build());
  expect_refused(weights(), "hole");
}

TEST_F(ConvertCli, HoleyOffsets) {
  SafetensorsBuilder b = TinyBert().safetensors();
  b.header()["embeddings.word_embeddings.weight"]["data_offsets"][0] =
      b.header()["embeddings.word_embeddings.weight"]["data_offsets"][0].get<uint64_t>() + 4;
  b.header()["embeddings.word_embeddings.weight"]["data_offsets"][1] =
      b.header()["embeddings.word_embeddings.weight"]["data_offsets"][1].get<uint64_t>() + 4;
  b.data() += std::string(4, '\0');
  set_weights(b.build());
  expect_refused(weights(), "hole");
}

TEST_F(ConvertCli, ShapeDtypeMismatch) {
  SafetensorsBuilder b = TinyBert().safetensors();
  b.header()["embeddings.LayerNorm.weight"]["dtype"] = "F16";
  set_weights(b.build());
  expect_refused(weights(), "'embeddings.LayerNorm.weight' has 32 bytes of data but its shape and dtype (F16) need 16");
}

TEST_F(ConvertCli, DuplicateNames) {
  std::string header = TinyBert().safetensors().header().dump();
  SafetensorsBuilder b = TinyBert().safetensors();
  const std::string entry = b.header()["pooler.dense.bias"].dump();
  header.insert(header.size() - 1, ",\"pooler.dense.bias\":" + entry);
  set_weights(SafetensorsBuilder::build_raw(header, b.data()));
  expect_refused(weights(), "key 'pooler.dense.bias' twice");
}

TEST_F(ConvertCli, ConfigMissing) {
  fs::remove(model_ + "/config.json");
  expect_refused(model_ + "/config.json", "missing");
}

TEST_F(ConvertCli, ConfigInvalid) {
  write_file(model_ + "/config.json", "{\"hidden_size\": 8,}");
  expect_refused(model_ + "/config.json", "not valid JSON");
}

TEST_F(ConvertCli, TensorShapeDisagreesWithConfig) {
  nlohmann::json c = TinyBert().config();
  c["max_position_embeddings"] = 32;
  write_file(model_ + "/config.json", c.dump());
  expect_refused(weights(), "'embeddings.position_embeddings.weight' has shape [16, 8] but config.json implies [32, 8]");
}

TEST_F(ConvertCli, MissingTensor) {
  nlohmann::json c = TinyBert().config();
  c["num_hidden_layers"] = 2;  // the checkpoint has one layer: all of layer 1 is missing
  write_file(model_ + "/config.json", c.dump());
  expect_refused(weights(), "16 required tensor(s) missing: encoder.layer.1.attention.self.query.weight, ");
}

TEST_F(ConvertCli, OutputDirectoryMissing) {
  RunResult r = run_bertc({"convert", model_, "-o", dir_ / "no/such/out.bertc"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "bertc: error: " + (dir_ / "no/such/out.bertc") + ": cannot create: directory " +
                       (dir_ / "no/such") + " does not exist\n");
}

TEST(ConvertCliFixtures, TinyPtPrintsOneNoteForIgnoredHeads) {
  TempDir dir;
  RunResult r = run_bertc({"convert", std::string(BERTC_TEST_DATA) + "/models/tiny-pt/model", "-o", dir / "p.bertc"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::count_lines(r.err), 2u) << r.err;  // the note and "wrote"
  EXPECT_NE(r.err.find("ignoring 8 tensor(s), pretraining heads"), std::string::npos) << r.err;
  RunResult q = run_bertc({"convert", std::string(BERTC_TEST_DATA) + "/models/tiny-pt/model", "-o", dir / "q.bertc", "-q"});
  EXPECT_EQ(q.err, "");
}

}  // namespace
}  // namespace bertc
