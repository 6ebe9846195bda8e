// read_safetensors / parse_safetensors on files built byte by byte: values come through exactly,
// and each rule of the format has a hostile file whose one-line error names the file and problem.
#include "weights/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>

#include "common/error.h"
#include "tests/weights/weights_test_util.h"

namespace bertc {
namespace {

using testing::SafetensorsBuilder;
using testing::TempDir;
using testing::u64_le;
using testing::write_file;

// Parses `bytes` as the file "x.safetensors" and expects an error mentioning every `parts`.
void expect_rejected(const std::string& bytes, std::initializer_list<const char*> parts) {
  try {
    parse_safetensors(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "x.safetensors");
    ADD_FAILURE() << "accepted; expected an error with '" << *parts.begin() << "'";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind("x.safetensors: ", 0), 0u) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    for (const char* p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

SafetensorsBuilder two_tensors() {
  SafetensorsBuilder b;
  b.add_f32("a", {2, 3}, {1, 2, 3, 4, 5, 6});
  b.add("b", "F16", {2}, std::string("\x00\x3c\x00\xc0", 4));  // 1.0, -2.0
  return b;
}

TEST(Safetensors, ReadsNamesDtypesShapesAndBytes) {
  SafetensorsBuilder b = two_tensors();
  b.header()["__metadata__"] = {{"format", "pt"}};
  std::string bytes = b.build();
  Checkpoint ck = parse_safetensors(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "x");
  ASSERT_EQ(ck.tensors.size(), 2u);
  const CheckpointTensor& a = ck.tensors[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.dtype, DType::kF32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  ASSERT_EQ(a.nbytes, 24u);
  float v[6];
  std::memcpy(v, a.data, 24);
  EXPECT_EQ(v[5], 6.0f);
  EXPECT_EQ(ck.tensors[1].dtype, DType::kF16);
  EXPECT_EQ(std::memcmp(ck.tensors[1].data, "\x00\x3c\x00\xc0", 4), 0);
}

TEST(Safetensors, AcceptsSpacePaddedHeaderAndEmptyTensors) {
  SafetensorsBuilder b = two_tensors();
  b.add("empty", "F32", {0, 4}, "");
  std::string header = b.header().dump() + "    ";  // writers pad the header to 8 bytes with spaces
  std::string bytes = SafetensorsBuilder::build_raw(header, b.data());
  Checkpoint ck = parse_safetensors(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "x");
  EXPECT_EQ(ck.tensors.size(), 3u);
}

TEST(Safetensors, ReadsFromAFile) {
  TempDir dir;
  write_file(dir / "m.safetensors", two_tensors().build());
  Checkpoint ck = read_safetensors(dir / "m.safetensors");
  EXPECT_EQ(ck.tensors.size(), 2u);
  EXPECT_FALSE(ck.keep_alive.empty());
}

TEST(Safetensors, RejectsTruncationAtEverySectionBoundary) {
  std::string bytes = two_tensors().build();
  uint64_t header_nbytes;
  std::memcpy(&header_nbytes, bytes.data(), 8);
  const size_t data_start = 8 + header_nbytes;
  // Inside the length, at the end of the length, inside the header, at the end of the header,
  // inside tensor a, between a and b, inside b, one byte short.
  for (size_t cut : {size_t{0}, size_t{4}, size_t{8}, size_t{20}, data_start, data_start + 10,
                     data_start + 24, data_start + 26, bytes.size() - 1}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    const char* expect = cut < 8 ? "too small" : cut < data_start ? "past the end" : "truncated";
    expect_rejected(bytes.substr(0, cut), {expect});
  }
}

TEST(Safetensors, RejectsHugeHeaderLength) {
  expect_rejected(u64_le(100'000'001) + "{}", {"header length 100000001", "limit"});
  expect_rejected(u64_le(UINT64_MAX) + "{}", {"exceeds the safetensors limit"});
  expect_rejected(u64_le(99'999'999) + "{}", {"past the end of the file"});  // within limit, not in file
}

TEST(Safetensors, RecognisesGitLfsPointers) {
  expect_rejected("version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 440449768\n",
                  {"Git LFS pointer", "git lfs pull"});
}

TEST(Safetensors, RejectsNonJsonHeaders) {
  expect_rejected(SafetensorsBuilder::build_raw("[1, 2]", ""), {"does not start with '{'"});
  expect_rejected(SafetensorsBuilder::build_raw("{\"a\": ", ""), {"not valid JSON"});
  expect_rejected(SafetensorsBuilder::build_raw("{\"\xff\": 1}", ""), {"not valid UTF-8"});
  expect_rejected(SafetensorsBuilder::build_raw("{} trailing", ""), {"not valid JSON"});
}

TEST(Safetensors, RejectsDuplicateNames) {
  std::string header =
      R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
      R"( "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})";
  expect_rejected(SafetensorsBuilder::build_raw(header, std::string(8, '\0')), {"key 'a' twice"});
}

TEST(Safetensors, RejectsOverlappingOffsets) {
  SafetensorsBuilder b = two_tensors();
  b.header()["b"]["data_offsets"] = {20, 24};
  b.data().resize(24);
  expect_rejected(b.build(), {"'b'", "overlap"});
}

TEST(Safetensors, RejectsAliasedOffsets) {
  SafetensorsBuilder b;
  b.add_f32("a", {1}, {1});
  b.header()["b"] = b.header()["a"];
  expect_rejected(b.build(), {"overlap"});
}

TEST(Safetensors, RejectsHolesBetweenTensors) {
  SafetensorsBuilder b = two_tensors();
  b.header()["b"]["data_offsets"] = {28, 32};
  b.data() += std::string(4, '\0');
  expect_rejected(b.build(), {"'b'", "hole"});
}

TEST(Safetensors, RejectsOutOfRangeOffsets) {
  SafetensorsBuilder b = two_tensors();
  b.header()["b"]["data_offsets"] = {24, 28};
  b.header()["a"]["data_offsets"] = {0, 24};
  b.data().resize(26);
  expect_rejected(b.build(), {"data section has 26", "truncated"});
  SafetensorsBuilder c = two_tensors();
  c.header()["b"]["data_offsets"] = {UINT64_MAX - 1, UINT64_MAX + 3ull};  // wraps to 2
  expect_rejected(c.build(), {"'b'", "end before they begin"});
}

TEST(Safetensors, RejectsTrailingBytes) {
  SafetensorsBuilder b = two_tensors();
  b.data() += "xx";
  expect_rejected(b.build(), {"trailing bytes"});
}

TEST(Safetensors, RejectsShapeDtypeMismatch) {
  SafetensorsBuilder b = two_tensors();
  b.header()["a"]["shape"] = {3, 3};
  expect_rejected(b.build(), {"'a'", "24 bytes", "need 36"});
  SafetensorsBuilder c = two_tensors();
  c.header()["a"]["dtype"] = "F16";
  expect_rejected(c.build(), {"'a'", "need 12"});
}

TEST(Safetensors, RejectsShapeOverflow) {
  SafetensorsBuilder b = two_tensors();
  b.header()["a"]["shape"] = {uint64_t{1} << 40, uint64_t{1} << 40};
  expect_rejected(b.build(), {"'a'", "overflow"});
}

TEST(Safetensors, RejectsBadEntries) {
  auto with = [](const char* key, nlohmann::json value) {
    SafetensorsBuilder b = two_tensors();
    b.header()["a"][key] = std::move(value);
    return b.build();
  };
  expect_rejected(with("dtype", "F128"), {"unknown dtype 'F128'"});
  expect_rejected(with("dtype", "F64"), {"F64", "does not read"});
  expect_rejected(with("shape", {2, -3}), {"not a non-negative integer"});
  expect_rejected(with("shape", "2x3"), {"no shape array"});
  expect_rejected(with("data_offsets", {0}), {"data_offsets [begin, end]"});
  expect_rejected(with("extra", 1), {"unknown field 'extra'"});
  SafetensorsBuilder b = two_tensors();
  b.header()["__metadata__"] = {{"k", 1}};
  expect_rejected(b.build(), {"__metadata__['k'] is not a string"});
}

TEST(Safetensors, ReadsShardedIndex) {
  TempDir dir;
  SafetensorsBuilder s1, s2;
  s1.add_f32("a", {2}, {1, 2});
  s2.add_f32("b", {1}, {3});
  write_file(dir / "model-00001-of-00002.safetensors", s1.build());
  write_file(dir / "model-00002-of-00002.safetensors", s2.build());
  nlohmann::json index = {{"metadata", {{"total_size", 12}}},
                          {"weight_map", {{"a", "model-00001-of-00002.safetensors"},
                                          {"b", "model-00002-of-00002.safetensors"}}}};
  write_file(dir / "model.safetensors.index.json", index.dump());
  Checkpoint ck = read_safetensors(dir / "model.safetensors.index.json");
  ASSERT_EQ(ck.tensors.size(), 2u);
  EXPECT_EQ(ck.keep_alive.size(), 2u);

  index["weight_map"]["c"] = "model-00002-of-00002.safetensors";
  write_file(dir / "model.safetensors.index.json", index.dump());
  EXPECT_THROW(
      {
        try {
          read_safetensors(dir / "model.safetensors.index.json");
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("tensor 'c' is missing"), std::string::npos) << e.what();
          throw;
        }
      },
      Error);
  index["weight_map"].erase("c");
  index["weight_map"]["a"] = "../model-00001-of-00002.safetensors";
  write_file(dir / "model.safetensors.index.json", index.dump());
  EXPECT_THROW(read_safetensors(dir / "model.safetensors.index.json"), Error);
}

}  // namespace
}  // namespace bertc
