// engine/npy: round trips, numpy's exact header bytes, and hostile headers naming the problem.
#include "common/npy.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"

namespace bertc {
namespace {

std::string error_of(const std::string& bytes) {
  try {
    parse_npy(bytes, "x.npy");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Npy, RoundTripAndAlignedHeader) {
  const std::vector<float> v = {1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, 7.0f};
  const std::string bytes = npy_bytes(v.data(), {2, 3});
  EXPECT_EQ((bytes.size() - v.size() * 4) % 64, 0u);  // data starts 64-byte aligned, as numpy
  EXPECT_NE(bytes.find("'shape': (2, 3), }"), std::string::npos);
  const NpyArray a = parse_npy(bytes, "x.npy");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.data, v);
}

TEST(Npy, OneDimensionalShapeKeepsTheTupleComma) {
  const std::vector<float> v = {1, 2, 3};
  const std::string bytes = npy_bytes(v.data(), {3});
  EXPECT_NE(bytes.find("'shape': (3,), }"), std::string::npos);
  EXPECT_EQ(parse_npy(bytes, "x.npy").shape, (std::vector<int64_t>{3}));
}

TEST(Npy, ReadsTheFixtures) {
  const NpyArray a = read_npy(std::string(BERTC_TEST_DATA) + "/models/tiny-st/ref_sentences/cls.npy");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{16, 128}));
  EXPECT_EQ(a.data.size(), 16u * 128u);
}

TEST(Npy, HostileInputsNameTheProblem) {
  const std::vector<float> v = {1, 2, 3, 4};
  const std::string good = npy_bytes(v.data(), {2, 2});
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string b = good;
    b.replace(b.find(from), from.size(), to);
    return b;
  };
  EXPECT_NE(error_of("not numpy").find("x.npy: not a .npy file (bad magic)"), std::string::npos);
  EXPECT_NE(error_of(good.substr(0, good.size() - 1)).find("x.npy: .npy data has 15 bytes, expected 16"),
            std::string::npos);
  EXPECT_NE(error_of(good.substr(0, 40)).find("truncated .npy header"), std::string::npos);
  EXPECT_NE(error_of(replaced("'<f4'", "'>f4'")).find("'>f4' is not supported"), std::string::npos);
  EXPECT_NE(error_of(replaced("'<f4'", "'<i4'")).find("'<i4' is not supported"), std::string::npos);
  EXPECT_NE(error_of(replaced("False", "True ")).find("Fortran order"), std::string::npos);
  EXPECT_NE(error_of(replaced("(2, 2)", "(2, x)")).find("'x' is not a dimension"), std::string::npos);
  EXPECT_NE(error_of(replaced("(2, 2)", "(999999999, 999999)")).find("absurdly large"),
            std::string::npos);
  std::string future = good;
  future[6] = 9;
  EXPECT_NE(error_of(future).find("format version 9"), std::string::npos);
}

TEST(Npy, WriteIsAtomicAndReadable) {
  const std::string path = (std::filesystem::temp_directory_path() / "bertc_npy_test.npy").string();
  const std::vector<float> v = {0.5f, 0.25f};
  write_npy(path, v.data(), {1, 2});
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_EQ(read_npy(path).data, v);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace bertc
