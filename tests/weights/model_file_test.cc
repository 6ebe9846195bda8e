// ModelWriter -> ModelFile round trip (configs, vocab, values, 64-byte alignment, checksums), and
// hostile .bertc files made by patching a valid one: each must fail at open (or at
// verify_checksums) with one line naming the file and the problem.
#include "weights/model_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "common/error.h"
#include "tests/weights/weights_test_util.h"
#include "weights/format.h"
#include "weights/writer.h"

namespace bertc {
namespace {

using testing::read_file;
using testing::TempDir;
using testing::TinyBert;
using testing::write_file;

BertConfig tiny_config(const TinyBert& t) {
  BertConfig c;
  c.vocab_size = t.vocab;
  c.hidden_size = t.hidden;
  c.num_hidden_layers = t.layers;
  c.num_attention_heads = t.heads;
  c.intermediate_size = t.inter;
  c.max_position_embeddings = t.positions;
  c.type_vocab_size = t.types;
  c.layer_norm_eps = 1e-7;
  c.hidden_act = "gelu_new";
  return c;
}

// Values of tensor i are i * 1000 + element index, so any misplacement shows.
std::vector<float> values_for(size_t i, int64_t n) {
  std::vector<float> v(n);
  for (int64_t k = 0; k < n; ++k) v[k] = static_cast<float>(i * 1000 + k);
  return v;
}

struct WriteOptions {
  std::string skip;     // a tensor to leave out
  std::string extra;    // a tensor to add
  std::string reshape;  // a tensor declared with one more row
};
WriteOptions skipping(std::string name) { return {std::move(name), "", ""}; }
WriteOptions adding(std::string name) { return {"", std::move(name), ""}; }
WriteOptions reshaping(std::string name) { return {"", "", std::move(name)}; }

void write_tiny(const std::string& path, const WriteOptions& o = {}) {
  TinyBert t;
  ModelWriter w(path, ModelKind::kBert);
  TokenizerConfig tok;
  tok.do_lower_case = false;
  tok.strip_accents = true;
  tok.model_max_length = 16;
  PoolingConfig pool{"mean", true, 12};
  w.set_bert(tiny_config(t), tok, pool, t.vocab_tokens());
  auto tensors = t.tensors();
  if (!o.extra.empty()) tensors.push_back({o.extra, {3}});
  std::vector<std::vector<float>> data;
  for (size_t i = 0; i < tensors.size(); ++i) {
    auto& [name, shape] = tensors[i];
    if (name == o.skip) continue;
    if (name == o.reshape) shape[0] += 1;
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    w.declare(name, DType::kF32, shape);
    data.push_back(values_for(i, n));
  }
  size_t k = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].first == o.skip) continue;
    const std::vector<float>& v = data[k++];
    // Two pieces: the writer must accept a tensor streamed in several writes.
    size_t half = v.size() / 2 * 4;
    w.write(tensors[i].first, v.data(), half);
    w.write(tensors[i].first, reinterpret_cast<const char*>(v.data()) + half, v.size() * 4 - half);
  }
  w.commit();
}

void expect_open_fails(const std::string& path, std::initializer_list<const char*> parts) {
  try {
    ModelFile::open(path);
    ADD_FAILURE() << "opened; expected an error with '" << *parts.begin() << "'";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    for (const char* p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

template <typename T>
void patch(std::string& bytes, size_t offset, T value) {
  ASSERT_LE(offset + sizeof(T), bytes.size());
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

// Byte offset of the table entry field after the name `name` (its dtype), found in the table.
size_t entry_after_name(const std::string& bytes, const std::string& name) {
  uint64_t table_offset;
  std::memcpy(&table_offset, bytes.data() + 32, 8);
  uint32_t len = static_cast<uint32_t>(name.size());
  std::string needle(reinterpret_cast<const char*>(&len), 4);
  needle += name;
  size_t at = bytes.find(needle, table_offset);
  EXPECT_NE(at, std::string::npos) << name;
  return at + needle.size();
}

class ModelFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_tiny(dir_ / "m.bertc");
    bytes_ = read_file(dir_ / "m.bertc");
  }
  std::string write_patched() {
    write_file(dir_ / "bad.bertc", bytes_);
    return dir_ / "bad.bertc";
  }
  TempDir dir_;
  std::string bytes_;
};

TEST_F(ModelFileTest, RoundTripsConfigVocabAndValues) {
  auto m = ModelFile::open(dir_ / "m.bertc");
  TinyBert t;
  EXPECT_EQ(m->format_version(), 1u);
  EXPECT_EQ(m->kind(), ModelKind::kBert);
  EXPECT_EQ(m->bert_config().hidden_size, t.hidden);
  EXPECT_EQ(m->bert_config().layer_norm_eps, 1e-7);
  EXPECT_EQ(m->bert_config().hidden_act, "gelu_new");
  EXPECT_FALSE(m->tokenizer_config().do_lower_case);
  EXPECT_EQ(m->tokenizer_config().strip_accents, std::optional<bool>(true));
  EXPECT_EQ(m->tokenizer_config().model_max_length, 16);
  ASSERT_TRUE(m->pooling_config());
  EXPECT_EQ(m->pooling_config()->mode, "mean");
  EXPECT_TRUE(m->pooling_config()->normalize);
  EXPECT_EQ(m->pooling_config()->max_seq_length, 12);
  EXPECT_EQ(m->vocab(), t.vocab_tokens());
  auto tensors = t.tensors();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo& info = m->tensor(tensors[i].first);
    EXPECT_EQ(info.shape, tensors[i].second);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(info.data) % 64, 0u) << info.name;
    std::vector<float> want = values_for(i, info.numel());
    ASSERT_EQ(std::memcmp(info.data, want.data(), info.nbytes), 0) << info.name;
  }
  EXPECT_EQ(m->find("nope"), nullptr);
  EXPECT_THROW(m->tensor("nope"), Error);
  EXPECT_NO_THROW(m->verify_checksums());
  EXPECT_EQ(m->fingerprint().size(), 16u);
  EXPECT_EQ(m->fingerprint(), ModelFile::open(dir_ / "m.bertc")->fingerprint());
}

// Released pages come back from the file on the next read: the values never change, and ranges
// past the mapping are ignored.
TEST_F(ModelFileTest, ReleasedPagesReadBackUnchanged) {
  auto m = ModelFile::open(dir_ / "m.bertc");
  TinyBert t;
  auto tensors = t.tensors();
  for (const TensorInfo& info : m->tensors()) m->release_pages(info.data, info.nbytes);
  m->release_pages(nullptr, 1 << 20);
  m->release_pages(static_cast<const char*>(m->tensors().back().data) + (1 << 30), 4096);
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo& info = m->tensor(tensors[i].first);
    std::vector<float> want = values_for(i, info.numel());
    ASSERT_EQ(std::memcmp(info.data, want.data(), info.nbytes), 0) << info.name;
  }
  EXPECT_NO_THROW(m->verify_checksums());
}

TEST_F(ModelFileTest, WriterIsDeterministic) {
  write_tiny(dir_ / "again.bertc");
  EXPECT_EQ(read_file(dir_ / "again.bertc"), bytes_);
}

TEST_F(ModelFileTest, RejectsBadMagic) {
  bytes_[1] = 'b';
  expect_open_fails(write_patched(), {"bad magic"});
}

TEST_F(ModelFileTest, RejectsFutureVersion) {
  patch<uint32_t>(bytes_, 8, 2);
  expect_open_fails(write_patched(), {"format version 2 is newer than this bertc supports (1)"});
}

TEST_F(ModelFileTest, RejectsTruncationAtEverySectionBoundary) {
  uint64_t meta_nbytes, table_nbytes;
  std::memcpy(&meta_nbytes, bytes_.data() + 24, 8);
  std::memcpy(&table_nbytes, bytes_.data() + 40, 8);
  const size_t table_end = 64 + meta_nbytes + table_nbytes;
  const std::string full = bytes_;
  for (size_t cut : {size_t{0}, size_t{10}, size_t{63}, size_t{64}, size_t{64 + meta_nbytes / 2},
                     size_t{64 + meta_nbytes}, table_end - 5, table_end, format::align_up(table_end) + 3,
                     full.size() - 1}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    bytes_ = full.substr(0, cut);
    expect_open_fails(write_patched(), {cut < 64 ? "too small" : "truncated"});
    // The same cut with file_nbytes patched to agree: the section checks must catch it instead.
    if (cut >= 64) {
      patch<uint64_t>(bytes_, 16, cut);
      expect_open_fails(write_patched(), {""});
    }
  }
}

TEST_F(ModelFileTest, RejectsOffsetsPastEndOfFile) {
  size_t at = entry_after_name(bytes_, "embeddings.LayerNorm.bias") + 4 + 4 + 8;  // dtype, rank, 1 dim
  patch<uint64_t>(bytes_, at, 0xFFFFFFFFFFFFFFC0ull);
  expect_open_fails(write_patched(), {"'embeddings.LayerNorm.bias'", "past the end of the file"});
}

TEST_F(ModelFileTest, RejectsOverlappingTensors) {
  size_t at = entry_after_name(bytes_, "embeddings.LayerNorm.bias") + 4 + 4 + 8;
  uint64_t offset;
  std::memcpy(&offset, bytes_.data() + at, 8);
  patch<uint64_t>(bytes_, at, offset - 64);
  expect_open_fails(write_patched(), {"'embeddings.LayerNorm.bias'", "overlaps"});
}

TEST_F(ModelFileTest, RejectsAbsurdDims) {
  size_t at = entry_after_name(bytes_, "embeddings.LayerNorm.bias") + 4 + 4;
  patch<uint64_t>(bytes_, at, uint64_t{1} << 41);
  expect_open_fails(write_patched(), {"absurd dimension"});
  patch<uint64_t>(bytes_, at, 9);  // plausible, but disagrees with nbytes
  expect_open_fails(write_patched(), {"'embeddings.LayerNorm.bias'", "has shape [9]"});
  patch<uint32_t>(bytes_, at - 4, 9);  // rank
  expect_open_fails(write_patched(), {"rank 9"});
}

TEST_F(ModelFileTest, RejectsUnknownDtype) {
  size_t at = entry_after_name(bytes_, "embeddings.LayerNorm.bias");
  patch<uint32_t>(bytes_, at, 99);
  expect_open_fails(write_patched(), {"unknown dtype 99"});
}

TEST_F(ModelFileTest, RejectsDuplicateNames) {
  size_t at = entry_after_name(bytes_, "encoder.layer.0.attention.self.value.bias");
  bytes_.replace(at - 10, 5, "query");
  expect_open_fails(write_patched(), {"'encoder.layer.0.attention.self.query.bias' appears twice"});
}

TEST_F(ModelFileTest, RejectsBadMetadata) {
  bytes_[64] = 'x';
  expect_open_fails(write_patched(), {"metadata is not valid JSON"});
}

TEST_F(ModelFileTest, RejectsHugeSectionSizes) {
  std::string full = bytes_;
  patch<uint64_t>(bytes_, 24, UINT64_MAX - 10);
  expect_open_fails(write_patched(), {"metadata size"});
  bytes_ = full;
  patch<uint64_t>(bytes_, 40, UINT64_MAX - 10);
  expect_open_fails(write_patched(), {"tensor table size"});
  bytes_ = full;
  patch<uint32_t>(bytes_, 48, 0xFFFFFFFFu);
  expect_open_fails(write_patched(), {"tensor count"});
  bytes_ = full;
  patch<uint32_t>(bytes_, 48, 200);
  expect_open_fails(write_patched(), {"tensor table is truncated"});
}

TEST_F(ModelFileTest, DetectsBadChecksumOnVerify) {
  size_t at = entry_after_name(bytes_, "pooler.dense.bias") + 4 + 4 + 8;
  uint64_t offset;
  std::memcpy(&offset, bytes_.data() + at, 8);
  bytes_[offset + 3] ^= 0x10;
  auto m = ModelFile::open(write_patched());  // data is not read at open
  try {
    m->verify_checksums();
    ADD_FAILURE() << "checksum mismatch not detected";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), dir_ / "bad.bertc" +
              ": checksum mismatch in tensor 'pooler.dense.bias' (the file is corrupt; reconvert it)");
  }
}

TEST(ModelFile, RejectsMissingUnknownAndMisshapenTensors) {
  TempDir dir;
  write_tiny(dir / "a.bertc", skipping("encoder.layer.0.output.dense.bias"));
  expect_open_fails(dir / "a.bertc", {"1 tensor(s) missing: encoder.layer.0.output.dense.bias"});
  write_tiny(dir / "b.bertc", adding("cls.predictions.bias"));
  expect_open_fails(dir / "b.bertc", {"unexpected tensor 'cls.predictions.bias'"});
  write_tiny(dir / "c.bertc", reshaping("embeddings.token_type_embeddings.weight"));
  expect_open_fails(dir / "c.bertc", {"'embeddings.token_type_embeddings.weight' has shape [3, 8], expected [2, 8]"});
  write_tiny(dir / "d.bertc", skipping("pooler.dense.bias"));
  expect_open_fails(dir / "d.bertc", {"both be present or both absent"});
}

TEST(ModelFile, RejectsMissingFileAndNonFiles) {
  TempDir dir;
  expect_open_fails(dir / "none.bertc", {"cannot open"});
  expect_open_fails(dir.path(), {"not a regular file"});
}

TEST(ModelWriter, LeavesNothingBehindWithoutCommit) {
  TempDir dir;
  {
    ModelWriter w(dir / "x.bertc", ModelKind::kBert);
    EXPECT_EQ(dir.count(), 1u);  // the temp file beside it
    EXPECT_FALSE(std::filesystem::exists(dir / "x.bertc"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "x.bertc"));
  EXPECT_EQ(dir.count(), 0u);
}

TEST(ModelWriter, RejectsMisuse) {
  TempDir dir;
  TinyBert t;
  ModelWriter w(dir / "x.bertc", ModelKind::kBert);
  w.set_bert(tiny_config(t), TokenizerConfig{}, std::nullopt, t.vocab_tokens());
  w.declare("a", DType::kF32, {2});
  w.declare("b", DType::kF32, {2});
  EXPECT_THROW(w.declare("a", DType::kF32, {2}), Error);
  EXPECT_THROW(w.declare("vocab.bytes", DType::kU8, {2}), Error);
  float v[3] = {1, 2, 3};
  EXPECT_THROW(w.write("b", v, 8), Error);   // out of order
  EXPECT_THROW(w.write("a", v, 12), Error);  // too many bytes
  EXPECT_THROW(w.resize("b", {2, 1}), Error);  // another rank: the table would change size
  EXPECT_THROW(w.resize("c", {2}), Error);     // not declared
  w.write("a", v, 8);
  EXPECT_THROW(w.resize("a", {3}), Error);  // already has bytes
  w.resize("b", {1});                         // none yet: allowed after a was streamed
  EXPECT_THROW(w.write("b", v, 8), Error);    // now 4 bytes
  w.resize("b", {2});
  try {
    w.commit();
    ADD_FAILURE() << "committed with tensor b unwritten";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 'b' got 0 of its 8 bytes"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bertc
