// `bertc inspect` on a converted fixture and on hostile .bertc files (bad magic, future version,
// offsets past EOF, absurd dims, bad checksum with --verify): exit 1 and one line naming the file.
#include <gtest/gtest.h>

#include <cstring>

#include "tests/weights/weights_test_util.h"

namespace bertc {
namespace {

using testing::RunResult;
using testing::run_bertc;
using testing::TempDir;

class InspectCli : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::TinyBert().write_folder(dir_ / "m");
    ASSERT_EQ(run_bertc({"convert", dir_ / "m", "-o", good_, "-q"}).exit_code, 0);
    bytes_ = testing::read_file(good_);
  }
  // Offset of the u64 `field` (0 = first dim, rank = offset, rank+1 = nbytes) of a rank-1 tensor.
  size_t field_of(const std::string& name, int field) {
    uint32_t len = static_cast<uint32_t>(name.size());
    size_t at = bytes_.find(std::string(reinterpret_cast<const char*>(&len), 4) + name, 64);
    EXPECT_NE(at, std::string::npos);
    return at + 4 + name.size() + 4 + 4 + 8 * field;
  }
  void put_u64(size_t at, uint64_t v) { std::memcpy(bytes_.data() + at, &v, 8); }
  void expect_inspect_fails(const std::string& part, bool verify = false) {
    testing::write_file(bad_, bytes_);
    std::vector<std::string> args = {"inspect", bad_};
    if (verify) args.push_back("--verify");
    RunResult r = run_bertc(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(testing::count_lines(r.err), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("bertc: error: " + bad_ + ": ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(part), std::string::npos) << "'" << part << "' not in: " << r.err;
    EXPECT_EQ(r.out, "");
  }
  TempDir dir_;
  std::string good_ = dir_ / "good.bertc", bad_ = dir_ / "bad.bertc";
  std::string bytes_;
};

TEST_F(InspectCli, BadMagic) {
  bytes_[0] = 'B';
  expect_inspect_fails("not a .bertc file (bad magic)");
}

TEST_F(InspectCli, FutureVersion) {
  bytes_[8] = 7;
  expect_inspect_fails("format version 7 is newer than this bertc supports (1)");
}

TEST_F(InspectCli, OffsetsPastEof) {
  put_u64(field_of("pooler.dense.bias", 1), 1ull << 50);
  expect_inspect_fails("'pooler.dense.bias' (offset 1125899906842624, 32 bytes) runs past the end of the file");
}

TEST_F(InspectCli, AbsurdDims) {
  put_u64(field_of("pooler.dense.bias", 0), 1ull << 60);
  expect_inspect_fails("'pooler.dense.bias' has an absurd dimension");
}

TEST_F(InspectCli, Truncated) {
  bytes_.resize(bytes_.size() - 1);
  expect_inspect_fails("truncated");
}

TEST_F(InspectCli, BadChecksumWithVerify) {
  uint64_t offset;
  std::memcpy(&offset, bytes_.data() + field_of("pooler.dense.bias", 1), 8);
  bytes_[offset] ^= 1;
  testing::write_file(bad_, bytes_);
  EXPECT_EQ(run_bertc({"inspect", bad_}).exit_code, 0);  // not read without --verify
  expect_inspect_fails("checksum mismatch in tensor 'pooler.dense.bias'", true);
}

TEST_F(InspectCli, NotAFile) {
  RunResult r = run_bertc({"inspect", dir_ / "absent.bertc"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("bertc: error: " + (dir_ / "absent.bertc") + ": cannot open", 0), 0u) << r.err;
}

}  // namespace
}  // namespace bertc
