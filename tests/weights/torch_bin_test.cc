// read_torch_bin on the tiny-pt fixture (every name, shape, dtype, first values; the tied decoder
// weight), on zips built here (shared storages, f16/bf16, deflate), on the legacy (pre-1.6) stream,
// and one test per hostile input, each checking a one-line bertc::Error naming the file and problem.
#include "weights/torch_bin.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "tests/weights/torch_bin_builder.h"

namespace bertc {
namespace {

using testing::FakeTensor;
using testing::PickleBuilder;
using testing::ZipEntry;

struct ExpectedTensor {
  const char* name;
  const char* storage_key;
  int64_t storage_offset;
  std::vector<int64_t> shape;
  std::vector<float> first;  // the first (up to) 3 values
};

// Produced by `tools/torch_bin_listing.py tests/data/models/tiny-pt/model/pytorch_model.bin`
// (Python's pickle with an inert find_class and struct on the raw storages; no torch), in file order.
const std::vector<ExpectedTensor> kTinyPt = {
    {"bert.embeddings.word_embeddings.weight", "0", 0, {30522, 64}, {0x1.ef9794p-9f, -0x1.5696a2p-7f, -0x1.0eb49p-7f}},
    {"bert.embeddings.position_embeddings.weight", "1", 0, {128, 64}, {-0x1.ba0d18p-6f, 0x1.355114p-5f, -0x1.d3fa8cp-6f}},
    {"bert.embeddings.token_type_embeddings.weight", "2", 0, {2, 64}, {-0x1.0ac75ep-5f, -0x1.6fa9aap-6f, -0x1.bc4ddap-6f}},
    {"bert.embeddings.LayerNorm.gamma", "3", 0, {64}, {0x1.e201f4p-1f, 0x1.45339ep+0f, 0x1.f086aap-1f}},
    {"bert.embeddings.LayerNorm.beta", "4", 0, {64}, {0x1.6e7736p-4f, -0x1.5d1578p-7f, -0x1.1b4a1ep-5f}},
    {"bert.encoder.layer.0.attention.self.query.weight", "5", 0, {64, 64}, {0x1.cfe41p-6f, -0x1.59dd34p-9f, -0x1.86bb2cp-7f}},
    {"bert.encoder.layer.0.attention.self.query.bias", "6", 0, {64}, {-0x1.232dccp-11f, 0x1.3df5a4p-7f, -0x1.0d4afp-7f}},
    {"bert.encoder.layer.0.attention.self.key.weight", "7", 0, {64, 64}, {0x1.f0d722p-6f, -0x1.99aa48p-7f, 0x1.a9f98cp-6f}},
    {"bert.encoder.layer.0.attention.self.key.bias", "8", 0, {64}, {-0x1.e65e6ap-7f, 0x1.6d5c56p-8f, 0x1.71964cp-6f}},
    {"bert.encoder.layer.0.attention.self.value.weight", "9", 0, {64, 64}, {-0x1.f88c16p-6f, -0x1.554f38p-5f, 0x1.50785cp-7f}},
    {"bert.encoder.layer.0.attention.self.value.bias", "10", 0, {64}, {-0x1.3f92a2p-11f, -0x1.c505c8p-7f, -0x1.2b68dcp-8f}},
    {"bert.encoder.layer.0.attention.output.dense.weight", "11", 0, {64, 64}, {0x1.5f3336p-9f, 0x1.2aa744p-9f, 0x1.25cc6cp-6f}},
    {"bert.encoder.layer.0.attention.output.dense.bias", "12", 0, {64}, {-0x1.9b31a8p-7f, -0x1.7ce352p-7f, 0x1.6ac5ecp-8f}},
    {"bert.encoder.layer.0.attention.output.LayerNorm.gamma", "13", 0, {64}, {0x1.0a5ba4p+0f, 0x1.d615e2p-1f, 0x1.ede1fcp-1f}},
    {"bert.encoder.layer.0.attention.output.LayerNorm.beta", "14", 0, {64}, {-0x1.ddab94p-4f, 0x1.0f00e8p-5f, -0x1.2f055p-4f}},
    {"bert.encoder.layer.0.intermediate.dense.weight", "15", 0, {256, 64}, {-0x1.4db284p-7f, -0x1.d433b4p-6f, 0x1.b07702p-6f}},
    {"bert.encoder.layer.0.intermediate.dense.bias", "16", 0, {256}, {0x1.a759b6p-8f, 0x1.052328p-5f, 0x1.217174p-8f}},
    {"bert.encoder.layer.0.output.dense.weight", "17", 0, {64, 256}, {0x1.e06dfcp-11f, 0x1.f4485ep-8f, -0x1.1aa03ep-6f}},
    {"bert.encoder.layer.0.output.dense.bias", "18", 0, {64}, {-0x1.4fb80ep-6f, 0x1.12580ap-7f, -0x1.b84c5cp-7f}},
    {"bert.encoder.layer.0.output.LayerNorm.gamma", "19", 0, {64}, {0x1.ba5e1ep-1f, 0x1.0cbe48p+0f, 0x1.f8c442p-1f}},
    {"bert.encoder.layer.0.output.LayerNorm.beta", "20", 0, {64}, {-0x1.7fd92ep-5f, -0x1.0165e6p-6f, 0x1.43e6f6p-3f}},
    {"bert.encoder.layer.1.attention.self.query.weight", "21", 0, {64, 64}, {0x1.1a0b2cp-6f, 0x1.b8b0d8p-10f, -0x1.d4a9a8p-6f}},
    {"bert.encoder.layer.1.attention.self.query.bias", "22", 0, {64}, {-0x1.7369dap-5f, -0x1.80e23cp-7f, -0x1.14a9dap-6f}},
    {"bert.encoder.layer.1.attention.self.key.weight", "23", 0, {64, 64}, {0x1.24d6bep-5f, -0x1.dd429ap-6f, 0x1.03db0cp-6f}},
    {"bert.encoder.layer.1.attention.self.key.bias", "24", 0, {64}, {-0x1.5800cp-7f, 0x1.5b1012p-6f, 0x1.95eb5ep-6f}},
    {"bert.encoder.layer.1.attention.self.value.weight", "25", 0, {64, 64}, {-0x1.854206p-5f, -0x1.a04b2ap-6f, -0x1.a622dcp-8f}},
    {"bert.encoder.layer.1.attention.self.value.bias", "26", 0, {64}, {0x1.84c4cep-7f, -0x1.a10e4cp-8f, 0x1.04e186p-7f}},
    {"bert.encoder.layer.1.attention.output.dense.weight", "27", 0, {64, 64}, {-0x1.3cbb52p-7f, 0x1.cd9f6ep-10f, -0x1.a8c102p-7f}},
    {"bert.encoder.layer.1.attention.output.dense.bias", "28", 0, {64}, {0x1.859ef6p-10f, 0x1.52a1ecp-6f, -0x1.2b2c7ap-6f}},
    {"bert.encoder.layer.1.attention.output.LayerNorm.gamma", "29", 0, {64}, {0x1.9ac862p-1f, 0x1.16ecf8p+0f, 0x1.03b06p+0f}},
    {"bert.encoder.layer.1.attention.output.LayerNorm.beta", "30", 0, {64}, {0x1.01586ap-2f, 0x1.c905d4p-5f, 0x1.309beap-3f}},
    {"bert.encoder.layer.1.intermediate.dense.weight", "31", 0, {256, 64}, {0x1.c392f2p-7f, -0x1.a9176ap-8f, 0x1.78ebp-8f}},
    {"bert.encoder.layer.1.intermediate.dense.bias", "32", 0, {256}, {0x1.57e6b4p-6f, -0x1.936206p-7f, -0x1.28a84ep-10f}},
    {"bert.encoder.layer.1.output.dense.weight", "33", 0, {64, 256}, {-0x1.86cacap-14f, 0x1.3c7e76p-6f, -0x1.c8921cp-6f}},
    {"bert.encoder.layer.1.output.dense.bias", "34", 0, {64}, {0x1.a14dbp-7f, 0x1.4aef46p-5f, -0x1.8a7d1ap-9f}},
    {"bert.encoder.layer.1.output.LayerNorm.gamma", "35", 0, {64}, {0x1.1b95fap+0f, 0x1.d74c6ep-1f, 0x1.e1ec82p-1f}},
    {"bert.encoder.layer.1.output.LayerNorm.beta", "36", 0, {64}, {0x1.e0438ep-7f, -0x1.f4eeb2p-4f, 0x1.84337p-4f}},
    {"bert.encoder.layer.2.attention.self.query.weight", "37", 0, {64, 64}, {0x1.1c1e06p-6f, -0x1.087788p-6f, -0x1.892bbp-6f}},
    {"bert.encoder.layer.2.attention.self.query.bias", "38", 0, {64}, {0x1.408d6p-6f, 0x1.9580f2p-8f, -0x1.a0da96p-10f}},
    {"bert.encoder.layer.2.attention.self.key.weight", "39", 0, {64, 64}, {-0x1.4985e6p-19f, -0x1.c8f25cp-6f, 0x1.78c87p-6f}},
    {"bert.encoder.layer.2.attention.self.key.bias", "40", 0, {64}, {0x1.57ea4p-6f, -0x1.e58b26p-6f, 0x1.52e9c6p-10f}},
    {"bert.encoder.layer.2.attention.self.value.weight", "41", 0, {64, 64}, {-0x1.083b02p-7f, -0x1.90588ep-8f, -0x1.2e8a3p-6f}},
    {"bert.encoder.layer.2.attention.self.value.bias", "42", 0, {64}, {-0x1.3b201ap-5f, 0x1.5b14b4p-10f, -0x1.8f26fep-10f}},
    {"bert.encoder.layer.2.attention.output.dense.weight", "43", 0, {64, 64}, {-0x1.03c3aap-7f, -0x1.a87014p-6f, 0x1.973cc8p-7f}},
    {"bert.encoder.layer.2.attention.output.dense.bias", "44", 0, {64}, {-0x1.c69af4p-7f, -0x1.5d7feep-8f, 0x1.78c022p-5f}},
    {"bert.encoder.layer.2.attention.output.LayerNorm.gamma", "45", 0, {64}, {0x1.c4a0bap-1f, 0x1.d7375ep-1f, 0x1.f873eap-1f}},
    {"bert.encoder.layer.2.attention.output.LayerNorm.beta", "46", 0, {64}, {0x1.57dedap-4f, 0x1.e0adc4p-6f, -0x1.16d416p-14f}},
    {"bert.encoder.layer.2.intermediate.dense.weight", "47", 0, {256, 64}, {0x1.b25c96p-6f, -0x1.65d82ep-7f, -0x1.e794bcp-7f}},
    {"bert.encoder.layer.2.intermediate.dense.bias", "48", 0, {256}, {-0x1.aceb0ap-7f, -0x1.be844ep-11f, 0x1.5acbd4p-5f}},
    {"bert.encoder.layer.2.output.dense.weight", "49", 0, {64, 256}, {0x1.265bbap-5f, 0x1.901052p-10f, -0x1.6064a4p-6f}},
    {"bert.encoder.layer.2.output.dense.bias", "50", 0, {64}, {0x1.341f62p-7f, -0x1.0d7258p-10f, -0x1.7beb18p-10f}},
    {"bert.encoder.layer.2.output.LayerNorm.gamma", "51", 0, {64}, {0x1.0b9eaap+0f, 0x1.058f9ep+0f, 0x1.d5c498p-1f}},
    {"bert.encoder.layer.2.output.LayerNorm.beta", "52", 0, {64}, {-0x1.3d5bd6p-4f, -0x1.17653ap-3f, 0x1.03efc2p-5f}},
    {"bert.pooler.dense.weight", "53", 0, {64, 64}, {0x1.391f1ep-6f, 0x1.ad49ap-8f, 0x1.0242a2p-6f}},
    {"bert.pooler.dense.bias", "54", 0, {64}, {-0x1.2b2402p-6f, -0x1.0ff53p-6f, -0x1.1a05fep-7f}},
    {"cls.predictions.bias", "55", 0, {30522}, {-0x1.9736fp-7f, -0x1.f12fp-7f, -0x1.01ea28p-7f}},
    {"cls.predictions.transform.dense.weight", "56", 0, {64, 64}, {-0x1.83ec68p-8f, 0x1.d21bbep-6f, 0x1.f007a6p-6f}},
    {"cls.predictions.transform.dense.bias", "57", 0, {64}, {-0x1.3bb404p-5f, 0x1.a12858p-11f, 0x1.a167f6p-6f}},
    {"cls.predictions.transform.LayerNorm.gamma", "58", 0, {64}, {0x1.f1936ap-1f, 0x1.d87a58p-1f, 0x1.fdff96p-1f}},
    {"cls.predictions.transform.LayerNorm.beta", "59", 0, {64}, {0x1.c4d0b2p-8f, 0x1.1f17ap-3f, 0x1.3acbd4p-4f}},
    {"cls.seq_relationship.weight", "60", 0, {2, 64}, {0x1.20a56cp-6f, 0x1.bfda5p-6f, 0x1.9f6976p-6f}},
    {"cls.seq_relationship.bias", "61", 0, {2}, {-0x1.12886cp-5f, -0x1.f4f2e8p-9f}},
    {"cls.predictions.decoder.weight", "0", 0, {30522, 64}, {0x1.ef9794p-9f, -0x1.5696a2p-7f, -0x1.0eb49p-7f}},
};

std::string tiny_pt_path() { return std::string(BERTC_TEST_DATA) + "/models/tiny-pt/model/pytorch_model.bin"; }

const CheckpointTensor& find(const Checkpoint& ckpt, const std::string& name) {
  for (const CheckpointTensor& t : ckpt.tensors) {
    if (t.name == name) return t;
  }
  throw std::runtime_error("no tensor " + name);
}

std::vector<float> floats(const CheckpointTensor& t) {
  std::vector<float> v(t.nbytes / sizeof(float));
  std::memcpy(v.data(), t.data, v.size() * sizeof(float));
  return v;
}

// Runs fn expecting a bertc::Error of one line that starts with `where` and contains `problem`.
void expect_error(const std::function<void()>& fn, const std::string& where, const std::string& problem) {
  try {
    fn();
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_EQ(msg.rfind(where + ": ", 0), 0u) << msg;
    EXPECT_NE(msg.find(problem), std::string::npos) << "expected '" << problem << "' in: " << msg;
    return;
  }
  ADD_FAILURE() << "no error; expected one containing '" << problem << "'";
}

void expect_read_error(const std::string& path, const std::string& problem) {
  expect_error([&] { read_torch_bin(path); }, path, problem);
}

TEST(TorchBinTinyPt, EveryTensorMatchesTheListing) {
  Checkpoint ckpt = read_torch_bin(tiny_pt_path());
  ASSERT_EQ(ckpt.tensors.size(), kTinyPt.size());
  for (size_t i = 0; i < kTinyPt.size(); ++i) {
    const CheckpointTensor& got = ckpt.tensors[i];
    const ExpectedTensor& want = kTinyPt[i];
    SCOPED_TRACE(want.name);
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.dtype, DType::kF32);
    EXPECT_EQ(got.shape, want.shape);
    int64_t numel = 1;
    for (int64_t d : want.shape) numel *= d;
    EXPECT_EQ(got.nbytes, static_cast<uint64_t>(numel) * 4);
    std::vector<float> first(want.first.size());
    std::memcpy(first.data(), got.data, first.size() * sizeof(float));
    EXPECT_EQ(first, want.first);  // bit-exact: the bytes are copied, never converted
  }
}

TEST(TorchBinTinyPt, TiedDecoderIsTheWordEmbeddingsStorage) {
  Checkpoint ckpt = read_torch_bin(tiny_pt_path());
  const CheckpointTensor& words = find(ckpt, "bert.embeddings.word_embeddings.weight");
  const CheckpointTensor& decoder = find(ckpt, "cls.predictions.decoder.weight");
  EXPECT_EQ(decoder.data, words.data);  // one storage, read once
  ASSERT_EQ(decoder.nbytes, words.nbytes);
  EXPECT_EQ(std::memcmp(decoder.data, words.data, words.nbytes), 0);
  // The last row too, so the view spans the whole storage: row 30521, column 63.
  EXPECT_EQ(floats(decoder).back(), floats(words).back());
}

TEST(TorchBinTinyPt, InMemoryReadEqualsFileRead) {
  std::ifstream in(tiny_pt_path(), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Checkpoint from_file = read_torch_bin(tiny_pt_path());
  Checkpoint from_memory = read_torch_bin_buffer(bytes.data(), bytes.size(), "tiny");
  ASSERT_EQ(from_memory.tensors.size(), from_file.tensors.size());
  for (size_t i = 0; i < from_file.tensors.size(); ++i) {
    const CheckpointTensor& a = from_file.tensors[i];
    const CheckpointTensor& b = from_memory.tensors[i];
    EXPECT_EQ(a.name, b.name);
    ASSERT_EQ(a.nbytes, b.nbytes);
    EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes), 0) << a.name;
  }
}

// ---- zips built here ----------------------------------------------------------------------------

// A torch.save-like archive under `prefix`, with data.pkl first as torch writes it.
std::vector<ZipEntry> archive(const std::string& prefix, const std::string& pickle,
                              const std::vector<ZipEntry>& storages) {
  std::vector<ZipEntry> entries = {{prefix + "/data.pkl", pickle}};
  for (const ZipEntry& s : storages) entries.push_back({prefix + "/data/" + s.name, s.data});
  entries.push_back({prefix + "/version", "3\n"});
  return entries;
}

// One f32 tensor "w" of shape [2, 2] on storage "0", the shape most hostile tests start from.
FakeTensor small_tensor() { return FakeTensor{"w", "FloatStorage", "0", 4, 0, {2, 2}, {2, 1}, false}; }

TEST(TorchBin, SharedStorageAtDifferentOffsetsDeflatedParameters) {
  std::filesystem::path path = testing::test_dir() / "shared.bin";
  FakeTensor a{"layer.a", "FloatStorage", "0", 10, 0, {2, 3}, {3, 1}, true};
  FakeTensor b{"layer.b", "FloatStorage", "0", 10, 6, {4}, {1}, false};
  std::string storage = testing::float_bytes({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  std::vector<ZipEntry> entries = archive("my_model", testing::state_dict_pickle({a, b}), {{"0", storage}});
  entries.push_back({"my_model/byteorder", "little"});
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(path, entries, /*deflate=*/true));

  Checkpoint ckpt = read_torch_bin(path);
  ASSERT_EQ(ckpt.tensors.size(), 2u);
  EXPECT_EQ(ckpt.tensors[0].name, "layer.a");
  EXPECT_EQ(ckpt.tensors[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(floats(ckpt.tensors[0]), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(ckpt.tensors[1].name, "layer.b");
  EXPECT_EQ(floats(ckpt.tensors[1]), (std::vector<float>{6, 7, 8, 9}));
  EXPECT_EQ(ckpt.keep_alive.size(), 1u);  // the storage is read once
}

TEST(TorchBin, HalfAndBFloat16KeepTheirBytes) {
  std::filesystem::path path = testing::test_dir() / "half.bin";
  FakeTensor h{"h", "HalfStorage", "0", 2, 0, {2}, {1}, false};
  FakeTensor bf{"bf", "BFloat16Storage", "1", 3, 1, {2}, {1}, false};
  std::string half_bytes = {'\x00', '\x3c', '\x00', '\xc0'};                  // f16 1.0, -2.0
  std::string bf16_bytes = {'\x00', '\x00', '\x80', '\x3f', '\x40', '\xc0'};  // bf16 0, 1.0, -3.0
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(
      path, archive("archive", testing::state_dict_pickle({h, bf}), {{"0", half_bytes}, {"1", bf16_bytes}})));
  Checkpoint ckpt = read_torch_bin(path);
  ASSERT_EQ(ckpt.tensors.size(), 2u);
  EXPECT_EQ(ckpt.tensors[0].dtype, DType::kF16);
  EXPECT_EQ(ckpt.tensors[0].nbytes, 4u);
  const uint16_t* half = static_cast<const uint16_t*>(ckpt.tensors[0].data);
  EXPECT_EQ(f16_to_f32(half[0]), 1.0f);
  EXPECT_EQ(f16_to_f32(half[1]), -2.0f);
  EXPECT_EQ(ckpt.tensors[1].dtype, DType::kBF16);
  const uint16_t* bf16 = static_cast<const uint16_t*>(ckpt.tensors[1].data);
  EXPECT_EQ(bf16_to_f32(bf16[0]), 1.0f);  // storage offset 1
  EXPECT_EQ(bf16_to_f32(bf16[1]), -3.0f);
}

TEST(TorchBin, IntegerPositionIdsAreSkippedOtherIntegersRefused) {
  std::filesystem::path dir = testing::test_dir();
  FakeTensor ids{"bert.embeddings.position_ids", "LongStorage", "1", 4, 0, {1, 4}, {4, 1}, false};
  std::string long_bytes(32, '\0');
  std::string pickle = testing::state_dict_pickle({small_tensor(), ids});
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(
      dir / "ok.bin", archive("a", pickle, {{"0", testing::float_bytes({1, 2, 3, 4})}, {"1", long_bytes}})));
  Checkpoint ckpt = read_torch_bin(dir / "ok.bin");
  ASSERT_EQ(ckpt.tensors.size(), 1u);
  EXPECT_EQ(ckpt.tensors[0].name, "w");

  ids.name = "classifier.weight";
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(
      dir / "int.bin", archive("a", testing::state_dict_pickle({ids}), {{"1", long_bytes}})));
  expect_read_error(dir / "int.bin",
                    "tensor 'classifier.weight' is stored as torch.LongStorage; only float32, float16 and "
                    "bfloat16 tensors are supported");
}

TEST(TorchBin, SizeOneAndEmptyDimensionsAreContiguousWhateverTheirStride) {
  std::filesystem::path path = testing::test_dir() / "ones.bin";
  FakeTensor row{"row", "FloatStorage", "0", 4, 0, {1, 4}, {99, 1}, false};
  // Empty, with other dimensions whose product (~2^93) would overflow if strides were checked.
  constexpr int64_t kBig = INT32_MAX;
  FakeTensor empty{"empty", "FloatStorage", "0", 4, 4, {0, kBig, kBig, kBig}, {7, 7, 7, 7}, false};
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(
      path, archive("a", testing::state_dict_pickle({row, empty}), {{"0", testing::float_bytes({1, 2, 3, 4})}})));
  Checkpoint ckpt = read_torch_bin(path);
  ASSERT_EQ(ckpt.tensors.size(), 2u);
  EXPECT_EQ(floats(ckpt.tensors[0]), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(ckpt.tensors[1].nbytes, 0u);
}

// A fuzz seed from tools/torch_bin_seeds.py without its first byte (the fuzzer's mode).
std::string seed_file(const std::string& seed) {
  std::ifstream in(std::string(BERTC_TEST_DATA) + "/../fuzz/corpus/torch_bin/" + seed, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_GT(bytes.size(), 1u) << seed;
  return bytes.empty() ? bytes : bytes.substr(1);
}

// Files written by CPython's own pickler (protocols 2 and 4: FRAME, MEMOIZE, STACK_GLOBAL): zips
// stored and deflated, and the legacy stream, all holding the same state dict.
TEST(TorchBin, CPythonPickledArchivesAndLegacyStream) {
  for (const char* seed : {"small_p2_stored_zip", "small_p2_deflated_zip", "small_p4_stored_zip",
                           "small_p4_deflated_zip", "small_legacy"}) {
    SCOPED_TRACE(seed);
    std::string bytes = seed_file(seed);
    Checkpoint ckpt = read_torch_bin_buffer(bytes.data(), bytes.size(), seed);
    ASSERT_EQ(ckpt.tensors.size(), 4u);  // embeddings.position_ids (int64) is skipped
    const CheckpointTensor& word = find(ckpt, "embeddings.word.weight");
    EXPECT_EQ(word.shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(floats(word), (std::vector<float>{0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(floats(find(ckpt, "embeddings.tail")), (std::vector<float>{6, 7, 8, 9}));
    const CheckpointTensor& half = find(ckpt, "half.weight");
    ASSERT_EQ(half.dtype, DType::kF16);
    const uint16_t* h = static_cast<const uint16_t*>(half.data);
    EXPECT_EQ(f16_to_f32(h[0]), 1.0f);
    EXPECT_EQ(f16_to_f32(h[3]), 65504.0f);
    EXPECT_EQ(find(ckpt, "decoder.weight").data, word.data);  // the same memoized tensor object
  }
}

// ---- hostile inputs: one test each --------------------------------------------------------------

TEST(TorchBinHostile, MissingStorageEntry) {
  std::filesystem::path path = testing::test_dir() / "missing.bin";
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(path, archive("a", testing::state_dict_pickle({small_tensor()}), {})));
  expect_read_error(path, "tensor 'w' needs storage entry 'a/data/0', which is missing");
}

TEST(TorchBinHostile, StorageEntryTooSmall) {
  std::filesystem::path path = testing::test_dir() / "small.bin";
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(
      path, archive("a", testing::state_dict_pickle({small_tensor()}), {{"0", testing::float_bytes({1, 2, 3})}})));
  expect_read_error(path, "storage entry 'a/data/0' holds 12 bytes; tensor 'w' expects 4 elements of 4 bytes");
}

TEST(TorchBinHostile, TensorReachesPastItsStorage) {
  std::filesystem::path path = testing::test_dir() / "past.bin";
  FakeTensor t = small_tensor();
  t.offset = 2;
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(
      path, archive("a", testing::state_dict_pickle({t}), {{"0", testing::float_bytes({1, 2, 3, 4})}})));
  expect_read_error(path, "tensor 'w': elements [2, 2 + 4) lie outside its storage of 4 elements");
}

TEST(TorchBinHostile, HugeShapeOverflows) {
  std::filesystem::path path = testing::test_dir() / "huge.bin";
  FakeTensor t = small_tensor();
  t.shape = {1 << 30, 1 << 30, 1 << 30};
  t.stride = {0, 0, 1};
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(
      path, archive("a", testing::state_dict_pickle({t}), {{"0", testing::float_bytes({1, 2, 3, 4})}})));
  expect_read_error(path, "tensor 'w': size [1073741824, 1073741824, 1073741824] overflows");
}

TEST(TorchBinHostile, NonContiguousStrides) {
  std::filesystem::path path = testing::test_dir() / "strided.bin";
  FakeTensor t = small_tensor();
  t.stride = {1, 2};  // a transposed view
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(
      path, archive("a", testing::state_dict_pickle({t}), {{"0", testing::float_bytes({1, 2, 3, 4})}})));
  expect_read_error(path, "tensor 'w': stride [1, 2] for size [2, 2] is not contiguous; save it with .contiguous()");
}

TEST(TorchBinHostile, ForbiddenGlobalsInDataPkl) {
  std::filesystem::path dir = testing::test_dir();
  for (auto [module, name] : std::vector<std::pair<std::string, std::string>>{
           {"os", "system"}, {"builtins", "eval"}, {"subprocess", "Popen"}, {"posix", "system"}}) {
    // The classic payload: a state-dict value whose __reduce__ runs a shell command.
    std::string pickle = PickleBuilder()
                             .proto()
                             .ordered_dict()
                             .mark()
                             .str("w")
                             .global(module, name)
                             .mark().str("touch /tmp/pwned").tuple()
                             .reduce()
                             .setitems()
                             .stop()
                             .bytes();
    std::filesystem::path path = dir / (module + ".bin");
    ASSERT_NO_FATAL_FAILURE(testing::write_zip(path, archive("a", pickle, {})));
    expect_read_error(path, "a/data.pkl: forbidden global '" + module + "." + name + "'");
  }
}

TEST(TorchBinHostile, UnknownOpcodeInDataPkl) {
  std::filesystem::path path = testing::test_dir() / "opcode.bin";
  std::string pickle = PickleBuilder().proto().op('i').bytes() + "os\nsystem\n";  // INST
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(path, archive("a", pickle, {})));
  expect_read_error(path, "a/data.pkl: opcode 0x69 ('i') is not supported");
}

TEST(TorchBinHostile, ReduceOnANonAllowedCallable) {
  std::filesystem::path path = testing::test_dir() / "reduce.bin";
  std::string pickle = PickleBuilder()
                           .proto()
                           .ordered_dict()
                           .mark().str("w").global("torch", "FloatStorage").empty_tuple().reduce().setitems()
                           .stop()
                           .bytes();
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(path, archive("a", pickle, {})));
  expect_read_error(path, "REDUCE calls 'torch.FloatStorage', which is allowed only as a value");
}

TEST(TorchBinHostile, TruncatedPickle) {
  std::filesystem::path path = testing::test_dir() / "truncated.bin";
  std::string pickle = testing::state_dict_pickle({small_tensor()});
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(
      path, archive("a", pickle.substr(0, pickle.size() / 2), {{"0", testing::float_bytes({1, 2, 3, 4})}})));
  expect_read_error(path, "a/data.pkl: truncated pickle");
}

TEST(TorchBinHostile, DeepNesting) {
  std::filesystem::path path = testing::test_dir() / "deep.bin";
  PickleBuilder p;
  p.proto();
  for (int i = 0; i < 5000; ++i) p.op(']');  // EMPTY_LIST, then APPEND each into the one below
  for (int i = 0; i < 4999; ++i) p.op('a');
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(path, archive("a", p.stop().bytes(), {})));
  expect_read_error(path, "a/data.pkl: nesting deeper than 100");
}

TEST(TorchBinHostile, ValueIsNotATensor) {
  std::filesystem::path path = testing::test_dir() / "int.bin";
  std::string pickle = PickleBuilder().proto().ordered_dict().mark().str("w").integer(3).setitems().stop().bytes();
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(path, archive("a", pickle, {})));
  expect_read_error(path, "tensor 'w': value is a int, not a tensor");
}

TEST(TorchBinHostile, TopLevelIsNotADict) {
  std::filesystem::path path = testing::test_dir() / "list.bin";
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(path, archive("a", PickleBuilder().proto().op(']').stop().bytes(), {})));
  expect_read_error(path, "a/data.pkl: holds a list, not a state dict");
}

TEST(TorchBinHostile, NotAZip) {
  std::filesystem::path path = testing::test_dir() / "text.bin";
  std::ofstream(path) << "{\"not\": \"a model\"}\n";
  expect_read_error(path, "neither a zip archive nor a legacy torch pickle, so not a torch.save file");
  std::filesystem::path empty = testing::test_dir() / "empty.bin";
  std::ofstream{empty};
  expect_read_error(empty, "neither a zip archive nor a legacy torch pickle");
  expect_read_error((testing::test_dir() / "absent.bin").string(), "cannot open for reading");
}

TEST(TorchBinHostile, TruncatedZip) {
  std::filesystem::path path = testing::test_dir() / "cut.bin";
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(
      path, archive("a", testing::state_dict_pickle({small_tensor()}), {{"0", testing::float_bytes({1, 2, 3, 4})}})));
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);  // loses the central directory
  expect_read_error(path, "not a readable zip archive");
}

TEST(TorchBinHostile, CorruptedStorageFailsItsChecksum) {
  std::filesystem::path path = testing::test_dir() / "crc.bin";
  std::string storage = testing::float_bytes({1, 2, 3, 4});
  ASSERT_NO_FATAL_FAILURE(
      testing::write_zip(path, archive("a", testing::state_dict_pickle({small_tensor()}), {{"0", storage}})));
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t at = bytes.find(storage);  // stored, so the floats appear verbatim
  ASSERT_NE(at, std::string::npos);
  f.seekp(static_cast<std::streamoff>(at));
  f.put('\x55');
  f.close();
  expect_read_error(path, "cannot read entry 'a/data/0'");
}

TEST(TorchBinHostile, LegacyFileReadFromDisk) {
  // The legacy path of read_torch_bin (whole-file read) on the seed, then on a cut copy.
  std::filesystem::path path = testing::test_dir() / "legacy.bin";
  std::string bytes = seed_file("small_legacy");
  std::ofstream(path, std::ios::binary) << bytes;
  EXPECT_EQ(read_torch_bin(path).tensors.size(), 4u);
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() - 1);
  expect_read_error(path, "truncated: storage '94245266029184' needs 4 elements, 31 bytes left");
}

TEST(TorchBinHostile, LegacyTruncatedAnywhere) {
  std::string bytes = seed_file("small_legacy");
  for (size_t n = 1; n < bytes.size(); ++n) {
    expect_error([&] { read_torch_bin_buffer(bytes.data(), n, "legacy.bin"); }, "legacy.bin", "");
  }
}

TEST(TorchBinHostile, LegacyWithoutMagic) {
  std::string pickle = PickleBuilder().proto().integer(1001).stop().bytes();
  expect_error([&] { read_torch_bin_buffer(pickle.data(), pickle.size(), "p.bin"); }, "p.bin",
               "starts like a pickle but not with torch's legacy magic number");
}

TEST(TorchBinHostile, LegacyElementCountMismatch) {
  std::string bytes = seed_file("small_legacy");
  // The data section ends the file: 8 + 40 (10 floats), 8 + 8 (4 halves), 8 + 32 (4 longs).
  size_t first_count = bytes.size() - 104;
  ASSERT_EQ(bytes[first_count], 10);
  bytes[first_count] = 11;
  expect_error([&] { read_torch_bin_buffer(bytes.data(), bytes.size(), "l.bin"); }, "l.bin",
               "storage '94245264211968' holds 11 elements; its tensors expect 10");
}

TEST(TorchBinHostile, LegacyBigEndian) {
  std::string bytes = seed_file("small_legacy");
  size_t at = bytes.find("little_endian");
  ASSERT_NE(at, std::string::npos);
  at = bytes.find('\x88', at);  // NEWTRUE after the key (and its BINPUT)
  bytes[at] = '\x89';
  expect_error([&] { read_torch_bin_buffer(bytes.data(), bytes.size(), "l.bin"); }, "l.bin",
               "saved on a big-endian machine; only little-endian checkpoints are supported");
}

TEST(TorchBinHostile, LegacyStorageView) {
  std::string bytes = seed_file("small_legacy");
  // The first persistent id's view_metadata None, then TUPLE: make it an int (not a view tuple,
  // but anything but None means a view). Pickles carry no lengths at protocol 2, so sizes may change.
  size_t at = bytes.find("Nt");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 1, "K\x05");
  expect_error([&] { read_torch_bin_buffer(bytes.data(), bytes.size(), "l.bin"); }, "l.bin",
               "its storage is a view of another storage");
}

TEST(TorchBinHostile, BigEndianByteorder) {
  std::filesystem::path path = testing::test_dir() / "big.bin";
  std::vector<ZipEntry> entries =
      archive("a", testing::state_dict_pickle({small_tensor()}), {{"0", testing::float_bytes({1, 2, 3, 4})}});
  entries.push_back({"a/byteorder", "big"});
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(path, entries));
  expect_read_error(path, "byteorder is 'big'; only little-endian checkpoints are supported");
}

TEST(TorchBinHostile, NoOrTwoDataPkl) {
  std::filesystem::path dir = testing::test_dir();
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(dir / "none.bin", {{"a/other.txt", "x"}}));
  expect_read_error(dir / "none.bin", "no <folder>/data.pkl entry, so not a torch.save archive");
  std::string pickle = testing::state_dict_pickle({});
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(dir / "two.bin", {{"a/data.pkl", pickle}, {"b/data.pkl", pickle}}));
  expect_read_error(dir / "two.bin", "two data.pkl entries");
}

TEST(TorchBinHostile, StorageReadWithTwoTypes) {
  std::filesystem::path path = testing::test_dir() / "types.bin";
  FakeTensor a = small_tensor();
  FakeTensor b{"b", "HalfStorage", "0", 8, 0, {8}, {1}, false};
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(
      path, archive("a", testing::state_dict_pickle({a, b}), {{"0", testing::float_bytes({1, 2, 3, 4})}})));
  expect_read_error(path, "tensor 'b' reads storage '0' as 8 x torch.HalfStorage, another tensor as 4 x torch.FloatStorage");
}

TEST(TorchBinHostile, StorageKeyIsNotAPlainName) {
  std::filesystem::path path = testing::test_dir() / "key.bin";
  FakeTensor t = small_tensor();
  t.key = "../0";
  ASSERT_NO_FATAL_FAILURE(testing::write_zip(path, archive("a", testing::state_dict_pickle({t}), {})));
  expect_read_error(path, "tensor 'w': storage key is not a plain name");
}

}  // namespace
}  // namespace bertc
