// `bertc convert` on pytorch_model.bin folders, run as a user would: tiny-pt converts, and hostile
// or truncated checkpoints fail with exit 1, one `bertc: error: <file>: <problem>` line, no stdout and no
// output file (nor its .tmp) left behind.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.h"
#include "tests/weights/torch_bin_builder.h"

namespace bertc {
namespace {

namespace fs = std::filesystem;
using testing::FakeTensor;
using testing::PickleBuilder;

// A model folder with tiny-pt's config and vocab and the given pytorch_model.bin entries.
fs::path model_folder(const fs::path& dir, const std::vector<testing::ZipEntry>& entries) {
  fs::path folder = dir / "model";
  fs::create_directories(folder);
  fs::path tiny = fs::path(BERTC_TEST_DATA) / "models/tiny-pt/model";
  fs::copy_file(tiny / "config.json", folder / "config.json");
  fs::copy_file(tiny / "vocab.txt", folder / "vocab.txt");
  testing::write_zip(folder / "pytorch_model.bin", entries);
  return folder;
}

void expect_clean_failure(const fs::path& dir, const fs::path& folder, const std::string& problem) {
  fs::path output = dir / "out.bertc";
  test::CliResult r = test::run_bertc_args("convert " + folder.string() + " -o " + output.string() + " -q");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "");
  std::string want_start = "bertc: error: " + (folder / "pytorch_model.bin").string() + ": ";
  EXPECT_EQ(r.err.rfind(want_start, 0), 0u) << r.err;
  EXPECT_NE(r.err.find(problem), std::string::npos) << r.err;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line expected: " << r.err;
  EXPECT_FALSE(fs::exists(output));
  EXPECT_FALSE(fs::exists(output.string() + ".tmp"));
}

TEST(ConvertTorchCli, TinyPtConverts) {
  fs::path dir = testing::test_dir();
  fs::path output = dir / "tiny.bertc";
  test::CliResult r = test::run_bertc_args(std::string("convert ") + BERTC_TEST_DATA + "/models/tiny-pt/model -o " +
                              output.string() + " -q");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");  // -q
  EXPECT_TRUE(fs::exists(output));
  EXPECT_FALSE(fs::exists(output.string() + ".tmp"));
}

TEST(ConvertTorchCli, ForbiddenGlobalFailsCleanly) {
  fs::path dir = testing::test_dir();
  std::string pickle = PickleBuilder()
                           .proto()
                           .ordered_dict()
                           .mark().str("w").global("os", "system").mark().str("touch pwned").tuple().reduce()
                           .setitems()
                           .stop()
                           .bytes();
  fs::path folder = model_folder(dir, {{"archive/data.pkl", pickle}});
  expect_clean_failure(dir, folder, "archive/data.pkl: forbidden global 'os.system'");
  EXPECT_FALSE(fs::exists(dir / "pwned"));
}

TEST(ConvertTorchCli, MissingStorageFailsCleanly) {
  fs::path dir = testing::test_dir();
  FakeTensor t{"bert.embeddings.word_embeddings.weight", "FloatStorage", "0", 4, 0, {2, 2}, {2, 1}, false};
  fs::path folder = model_folder(dir, {{"archive/data.pkl", testing::state_dict_pickle({t})}});
  expect_clean_failure(dir, folder, "needs storage entry 'archive/data/0', which is missing");
}

TEST(ConvertTorchCli, TruncatedLegacyFileFailsCleanly) {
  fs::path dir = testing::test_dir();
  fs::path folder = model_folder(dir, {});
  // The legacy magic-number pickle, then nothing.
  std::ofstream(folder / "pytorch_model.bin", std::ios::binary)
      << std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e", 15);
  expect_clean_failure(dir, folder, "protocol version pickle: truncated pickle");
}

}  // namespace
}  // namespace bertc
