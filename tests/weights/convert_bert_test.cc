// convert_bert_folder: every converted tensor equals its source bit for bit (f32 -> f32) or is the
// IEEE conversion (f16, bf16); legacy names and pretraining heads of tiny-pt; the real MiniLM; and
// each refusal leaves neither OUT nor OUT.tmp behind.
#include "weights/convert_bert.h"

#include <gtest/gtest.h>

#include <cstring>

#include "common/error.h"
#include "tests/weights/weights_test_util.h"
#include "weights/bert_names.h"
#include "weights/checkpoint.h"
#include "weights/hf_folder.h"
#include "weights/model_file.h"

namespace bertc {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::TinyBert;
using testing::write_file;

const std::string kData = BERTC_TEST_DATA;

// Checks every kept source tensor against the converted file; returns how many were compared.
size_t expect_same_tensors(const Checkpoint& src, const ModelFile& m, DType out) {
  size_t compared = 0;
  for (const CheckpointTensor& t : src.tensors) {
    MappedName name = map_bert_name(t.name);
    if (name.action == MappedName::kIgnore) continue;
    const TensorInfo& got = m.tensor(name.name);
    EXPECT_EQ(got.shape, t.shape) << t.name;
    EXPECT_EQ(got.dtype, out) << t.name;
    const size_t n = t.nbytes / dtype_nbytes(t.dtype);
    if (out == t.dtype) {
      EXPECT_EQ(std::memcmp(got.data, t.data, t.nbytes), 0) << t.name << " differs from the source";
    } else {
      std::vector<unsigned char> want(n * dtype_nbytes(out));
      convert_floats(t.data, t.dtype, want.data(), out, n);
      EXPECT_EQ(std::memcmp(got.data, want.data(), want.size()), 0) << t.name;
    }
    ++compared;
  }
  return compared;
}

TEST(ConvertBert, TinyStIsBitIdentical) {
  TempDir dir;
  const std::string src = kData + "/models/tiny-st/model";
  convert_bert_folder(src, dir / "t.bertc", {});
  auto m = ModelFile::open(dir / "t.bertc");
  m->verify_checksums();
  Checkpoint ck = read_safetensors(src + "/model.safetensors");
  EXPECT_EQ(expect_same_tensors(ck, *m, DType::kF32), 39u);  // 5 + 2 layers x 16 + pooler 2
  EXPECT_NE(m->find("pooler.dense.weight"), nullptr);
  EXPECT_EQ(m->vocab(), read_vocab_txt(src + "/vocab.txt"));
  EXPECT_FALSE(fs::exists(dir / "t.bertc.tmp"));
}

TEST(ConvertBert, TinyPtLegacyNamesAndIgnoredHeads) {
  TempDir dir;
  const std::string src = kData + "/models/tiny-pt/model";
  std::vector<std::string> notes;
  ConvertOptions o;
  o.note = [&](const std::string& s) { notes.push_back(s); };
  convert_bert_folder(src, dir / "p.bertc", o);
  auto m = ModelFile::open(dir / "p.bertc");
  Checkpoint ck = read_torch_bin(src + "/pytorch_model.bin");
  EXPECT_EQ(expect_same_tensors(ck, *m, DType::kF32), 5u + 3 * 16 + 2);
  EXPECT_EQ(m->bert_config().num_hidden_layers, 3);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("ignoring 8 tensor(s), pretraining heads"), std::string::npos) << notes[0];
}

TEST(ConvertBert, F16AndBf16AreIeeeRounding) {
  TempDir dir;
  const std::string src = kData + "/models/tiny-st/model";
  Checkpoint ck = read_safetensors(src + "/model.safetensors");
  for (DType out : {DType::kF16, DType::kBF16}) {
    const std::string path = dir / (std::string(dtype_name(out)) + ".bertc");
    ConvertOptions options;
    options.dtype = out;
    convert_bert_folder(src, path, options);
    auto m = ModelFile::open(path);
    m->verify_checksums();
    expect_same_tensors(ck, *m, out);
    // Spot-check against the scalar conversions directly, not only through convert_floats.
    const TensorInfo& w = m->tensor("encoder.layer.1.output.dense.weight");
    const float* s = nullptr;
    for (const CheckpointTensor& t : ck.tensors)
      if (t.name == "encoder.layer.1.output.dense.weight") s = static_cast<const float*>(t.data);
    ASSERT_NE(s, nullptr);
    const uint16_t* h = static_cast<const uint16_t*>(w.data);
    for (int64_t i = 0; i < w.numel(); ++i) {
      uint16_t want = out == DType::kF16 ? f32_to_f16(s[i]) : f32_to_bf16(s[i]);
      ASSERT_EQ(h[i], want) << i;
    }
  }
}

TEST(ConvertBert, Bf16SourceWidensExactly) {
  TempDir dir;
  TinyBert t;
  t.write_folder(dir / "m");
  testing::SafetensorsBuilder b;
  std::vector<uint16_t> first;
  for (const auto& [name, shape] : t.tensors()) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<uint16_t> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = static_cast<uint16_t>(0x3f80 + i * 7);
    if (first.empty()) first = v;
    b.add(name, "BF16", shape, testing::bytes_of(v));
  }
  write_file(dir / "m/model.safetensors", b.build());
  convert_bert_folder(dir / "m", dir / "o.bertc", {});
  auto m = ModelFile::open(dir / "o.bertc");
  const float* w = static_cast<const float*>(m->tensor("embeddings.word_embeddings.weight").data);
  for (size_t i = 0; i < first.size(); ++i) ASSERT_EQ(f32_bits(w[i]), uint32_t{first[i]} << 16) << i;
}

TEST(ConvertBert, RealMiniLM) {
  const std::string src = std::string(BERTC_MODELS_DIR) + "/all-MiniLM-L6-v2";
  if (!fs::exists(src + "/model.safetensors")) GTEST_SKIP() << "models/all-MiniLM-L6-v2 absent";
  TempDir dir;
  convert_bert_folder(src, dir / "m.bertc", {});
  auto m = ModelFile::open(dir / "m.bertc");
  m->verify_checksums();
  EXPECT_EQ(m->bert_config().hidden_size, 384);
  EXPECT_EQ(m->bert_config().num_hidden_layers, 6);
  EXPECT_EQ(m->bert_config().num_attention_heads, 12);
  EXPECT_EQ(m->bert_config().intermediate_size, 1536);
  EXPECT_EQ(m->bert_config().max_position_embeddings, 512);
  EXPECT_TRUE(m->tokenizer_config().do_lower_case);
  ASSERT_TRUE(m->pooling_config());
  EXPECT_EQ(m->pooling_config()->mode, "mean");
  EXPECT_TRUE(m->pooling_config()->normalize);
  EXPECT_EQ(m->pooling_config()->max_seq_length, 256);
  EXPECT_EQ(m->vocab().size(), 30522u);
  EXPECT_EQ(m->vocab()[101], "[CLS]");
  EXPECT_EQ(m->vocab()[102], "[SEP]");
  Checkpoint ck = read_safetensors(src + "/model.safetensors");
  EXPECT_EQ(expect_same_tensors(ck, *m, DType::kF32), 5u + 6 * 16 + 2);
}

class ConvertBertErrors : public ::testing::Test {
 protected:
  void SetUp() override { TinyBert().write_folder(dir_ / "m"); }
  // Converts and expects an error naming `file` with every part, and no output left behind.
  void expect_fails(const std::string& file, std::initializer_list<const char*> parts) {
    const std::string out = dir_ / "out.bertc";
    try {
      convert_bert_folder(dir_ / "m", out, {});
      ADD_FAILURE() << "converted; expected '" << *parts.begin() << "'";
    } catch (const Error& e) {
      std::string msg = e.what();
      EXPECT_EQ(msg.rfind(file + ": ", 0), 0u) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
      for (const char* p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
    }
    EXPECT_FALSE(fs::exists(out));
    EXPECT_FALSE(fs::exists(out + ".tmp"));
  }
  void write_weights(const testing::SafetensorsBuilder& b) { write_file(dir_ / "m/model.safetensors", b.build()); }
  TempDir dir_;
};

TEST_F(ConvertBertErrors, MissingTensorsAreAllListed) {
  testing::SafetensorsBuilder b = TinyBert().safetensors();
  b.header().erase("encoder.layer.0.intermediate.dense.bias");
  b.header().erase("embeddings.LayerNorm.weight");
  // Rebuild so offsets stay contiguous.
  testing::SafetensorsBuilder c;
  for (auto& [name, v] : b.header().items()) {
    auto off = v["data_offsets"];
    c.add(name, "F32", v["shape"].get<std::vector<int64_t>>(),
          b.data().substr(off[0].get<size_t>(), off[1].get<size_t>() - off[0].get<size_t>()));
  }
  write_weights(c);
  expect_fails(dir_ / "m/model.safetensors",
               {"2 required tensor(s) missing: embeddings.LayerNorm.weight, "
                "encoder.layer.0.intermediate.dense.bias"});
}

TEST_F(ConvertBertErrors, ShapeDisagreeingWithConfig) {
  nlohmann::json c = TinyBert().config();
  c["intermediate_size"] = 32;
  write_file(dir_ / "m/config.json", c.dump());
  expect_fails(dir_ / "m/model.safetensors",
               {"'encoder.layer.0.intermediate.dense.weight' has shape [16, 8] but config.json implies [32, 8]"});
}

TEST_F(ConvertBertErrors, UnexpectedTensor) {
  testing::SafetensorsBuilder b = TinyBert().safetensors();
  b.add_f32("classifier.weight", {2}, {1, 2});
  write_weights(b);
  expect_fails(dir_ / "m/model.safetensors", {"not part of a BertModel", "classifier.weight"});
}

TEST_F(ConvertBertErrors, TwoNamesForOneTensor) {
  testing::SafetensorsBuilder b = TinyBert().safetensors();
  b.add_f32("bert.embeddings.LayerNorm.gamma", {8}, std::vector<float>(8, 1.0f));
  write_weights(b);
  expect_fails(dir_ / "m/model.safetensors", {"both map to 'embeddings.LayerNorm.weight'"});
}

TEST_F(ConvertBertErrors, IntegerWeight) {
  testing::SafetensorsBuilder b = TinyBert().safetensors();
  auto& e = b.header()["embeddings.LayerNorm.bias"];
  e["dtype"] = "I32";
  write_weights(b);
  expect_fails(dir_ / "m/model.safetensors", {"'embeddings.LayerNorm.bias' has dtype i32"});
}

TEST_F(ConvertBertErrors, BrokenSafetensors) {
  std::string bytes = TinyBert().safetensors().build();
  write_file(dir_ / "m/model.safetensors", bytes.substr(0, bytes.size() - 1));
  expect_fails(dir_ / "m/model.safetensors", {"truncated"});
}

TEST_F(ConvertBertErrors, ConfigMissingOrInvalid) {
  write_file(dir_ / "m/config.json", "{not json");
  expect_fails(dir_ / "m/config.json", {"not valid JSON"});
  fs::remove(dir_ / "m/config.json");
  expect_fails(dir_ / "m/config.json", {"missing"});
}

}  // namespace
}  // namespace bertc
