// Issue 14, class 1: outputs never destroy what is not theirs, for every command that writes
// (embed, similarity, tokenize, convert, index build). A FIFO, a character device node, a
// symlink and a read-only file are made in a temp directory (never the real /dev/null); a failed
// write is an error on every command, stdout included; a bad -o fails before the work; a failed
// index build leaves nothing that blocks a corrected retry.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/npy.h"
#include "engine_test_util.h"
#include "tests/weights/weights_test_util.h"

namespace bertc {
namespace {

namespace fs = std::filesystem;
using testing::run_bertc;

std::string quoted(const std::string& s) { return testing::shell_quote(s); }

std::string tiny_model() {
  return testing::converted_path(testing::fixture_model_dir("tiny-st"), "tiny-st");
}

// One command of each kind that writes a file, given its output path (-o).
struct Writer {
  const char* name;
  std::string (*args)(const std::string& out);
};

const std::vector<Writer>& writers() {
  static const std::vector<Writer> w = {
      {"embed", [](const std::string& out) {
         return "embed -m " + quoted(tiny_model()) + " --threads 1 -q --format npy -o " + quoted(out) + " hello world";
       }},
      {"similarity", [](const std::string& out) {
         return "similarity -m " + quoted(tiny_model()) + " --threads 1 -q --format csv -o " + quoted(out) + " a b";
       }},
      {"tokenize", [](const std::string& out) {
         return "tokenize -m " + quoted(tiny_model()) + " -o " + quoted(out) + " hello";
       }},
      {"convert", [](const std::string& out) {
         return "convert -q " + quoted(testing::fixture_model_dir("tiny-st")) + " -o " + quoted(out);
       }},
  };
  return w;
}

// Reads a FIFO to its end in a thread, as the process on the other side of `-o FIFO` would.
class FifoReader {
 public:
  explicit FifoReader(const std::string& path) : thread_([this, path] { got_ = testing::read_file(path); }) {}
  std::string join() {
    thread_.join();
    return got_;
  }

 private:
  std::string got_;
  std::thread thread_;
};

TEST(OutputCli, FifoStaysAFifoAndGetsTheData) {
  for (const Writer& w : writers()) {
    testing::TempDir dir;
    const std::string fifo = dir / "fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    FifoReader reader(fifo);
    const auto r = run_bertc(w.args(fifo));
    const std::string got = reader.join();
    EXPECT_EQ(r.exit_code, 0) << w.name << ": " << r.err;
    EXPECT_TRUE(fs::is_fifo(fifo)) << w.name;
    EXPECT_FALSE(got.empty()) << w.name;
    EXPECT_EQ(dir.count(), 1u) << w.name << ": left files beside the FIFO";
  }
}

TEST(OutputCli, CharacterDeviceStaysADevice) {
  if (::geteuid() != 0) GTEST_SKIP() << "mknod of a character device node needs root";
  for (const Writer& w : writers()) {
    testing::TempDir dir;
    const std::string dev = dir / "null";  // a node of our own, never the system's /dev/null
    ASSERT_EQ(::mknod(dev.c_str(), S_IFCHR | 0666, ::makedev(1, 3)), 0) << std::strerror(errno);
    const auto r = run_bertc(w.args(dev));
    EXPECT_EQ(r.exit_code, 0) << w.name << ": " << r.err;
    EXPECT_TRUE(fs::is_character_file(dev)) << w.name << " replaced the device node";
    EXPECT_EQ(dir.count(), 1u) << w.name;
  }
}

TEST(OutputCli, FullDeviceIsAWriteError) {
  if (::geteuid() != 0) GTEST_SKIP() << "mknod of a character device node needs root";
  for (const Writer& w : writers()) {
    testing::TempDir dir;
    const std::string full = dir / "full";
    ASSERT_EQ(::mknod(full.c_str(), S_IFCHR | 0666, ::makedev(1, 7)), 0) << std::strerror(errno);
    const auto r = run_bertc(w.args(full));
    EXPECT_EQ(r.exit_code, 1) << w.name;
    EXPECT_EQ(r.err, "bertc: error: " + full + ": write failed: No space left on device\n") << w.name;
    EXPECT_TRUE(fs::is_character_file(full)) << w.name;
  }
}

TEST(OutputCli, SymlinkTargetIsReplacedAndTheLinkKept) {
  for (const Writer& w : writers()) {
    testing::TempDir dir;
    fs::create_directories(dir / "real");
    testing::write_file(dir / "real/out", "old");
    fs::create_symlink("real/out", dir / "link");
    const auto r = run_bertc(w.args(dir / "link"));
    EXPECT_EQ(r.exit_code, 0) << w.name << ": " << r.err;
    EXPECT_TRUE(fs::is_symlink(dir / "link")) << w.name;
    const std::string got = testing::read_file(dir / "real/out");
    EXPECT_NE(got, "old") << w.name;
    EXPECT_FALSE(got.empty()) << w.name;
    EXPECT_EQ(dir.count(), 2u) << w.name;
  }
}

TEST(OutputCli, ReadOnlyFileIsRefusedAndKept) {
  for (const Writer& w : writers()) {
    testing::TempDir dir;
    const std::string ro = dir / "ro";
    testing::write_file(ro, "keep me");
    ::chmod(ro.c_str(), 0444);
    const auto r = run_bertc(w.args(ro));
    EXPECT_EQ(r.exit_code, 1) << w.name;
    EXPECT_EQ(testing::count_lines(r.err), 1u) << w.name << ": " << r.err;
    EXPECT_NE(r.err.find(ro + ": "), std::string::npos) << w.name << ": " << r.err;
    EXPECT_NE(r.err.find("refusing to replace it"), std::string::npos) << w.name << ": " << r.err;
    EXPECT_EQ(testing::read_file(ro), "keep me") << w.name;
    EXPECT_EQ(dir.count(), 1u) << w.name;
  }
}

// As an ordinary user: a file owned by someone else in a directory anyone may write to (the
// rename would succeed there) is not replaced. Needs root to make the user switch.
TEST(OutputCli, AnotherUsersFileIsNotReplacedByAnOrdinaryUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "switching to an ordinary user needs root";
  if (std::system("command -v setpriv > /dev/null") != 0) GTEST_SKIP() << "no setpriv";
  testing::TempDir dir;
  ::chmod(dir.path().c_str(), 0777);
  const std::string theirs = dir / "theirs.txt";
  testing::write_file(theirs, "root's");
  ::chmod(theirs.c_str(), 0644);
  // The binary and its fixtures must be readable by nobody; the tokenizer's vocabulary is enough.
  const std::string vocab = dir / "vocab.txt";
  fs::copy_file(std::string(BERTC_TEST_DATA) + "/models/tiny-st/model/vocab.txt", vocab);
  const std::string cmd = "setpriv --reuid=65534 --regid=65534 --clear-groups " + quoted(BERTC_BINARY) +
                          " tokenize --vocab " + quoted(vocab) + " -o " + quoted(theirs) + " hello";
  const auto r = test::run_bertc_args("--version");  // the binary runs at all
  ASSERT_EQ(r.exit_code, 0);
  const std::string err = dir / "err";
  const int status = std::system((cmd + " 2> " + quoted(err)).c_str());
  if (WIFEXITED(status) && WEXITSTATUS(status) == 126) GTEST_SKIP() << "nobody cannot run the binary here";
  EXPECT_EQ(WEXITSTATUS(status), 1) << testing::read_file(err);
  EXPECT_NE(testing::read_file(err).find("refusing to replace it"), std::string::npos) << testing::read_file(err);
  EXPECT_EQ(testing::read_file(theirs), "root's");
  struct stat st;
  ASSERT_EQ(::stat(theirs.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
}

TEST(OutputCli, DevFdIsTheDescriptorTheShellOpened) {
  testing::TempDir dir;
  const std::string file = dir / "via_fd3";
  const auto r = run_bertc("embed -m " + quoted(tiny_model()) + " --threads 1 -q -o /dev/fd/3 hello 3> " + quoted(file));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::count_lines(testing::read_file(file)), 1u);  // one jsonl row
  EXPECT_EQ(dir.count(), 1u);
}

// Every command's stdout to a full device: exit 1 naming stdout, not a silent 0.
TEST(OutputCli, StdoutWriteFailureIsAnErrorEverywhere) {
  testing::TempDir dir;
  const std::string model = quoted(tiny_model());
  const std::string corpus = dir.write("corpus.txt", "a river\nthe bank\n");
  const std::vector<std::string> commands = {
      "embed -m " + model + " --threads 1 -q hello",
      "similarity -m " + model + " --threads 1 -q a b",
      "search -m " + model + " --threads 1 -q --corpus " + quoted(corpus) + " river",
      "tokenize -m " + model + " hello",
      "inspect " + model,
      "bench --random tiny --shapes 1x8 --reps 1 --threads 1",
      "--help",
  };
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  for (const std::string& c : commands) {
    // stdout is redirected by the shell; bertc only writes to its descriptor 1.
    const std::string err = dir / "err";
    const int status = std::system((quoted(BERTC_BINARY) + " " + c + " < /dev/null > /dev/full 2> " + quoted(err)).c_str());
    EXPECT_EQ(WEXITSTATUS(status), 1) << c;
    EXPECT_TRUE(testing::read_file(err).ends_with("bertc: error: stdout: write failed: No space left on device\n"))
        << c << ": " << testing::read_file(err);
  }
}

TEST(OutputCli, BadOutputFailsBeforeTheWork) {
  testing::TempDir dir;
  const std::string out = dir / "missing_dir/x.npy";
  // The input's line 2 is invalid UTF-8: naming the output means it was checked first.
  const std::string bad_input = "fine\nbad \xC0\xAF\n";
  for (const std::string& cmd :
       {"embed -m " + quoted(tiny_model()) + " --threads 1 -o " + quoted(out),
        "similarity -m " + quoted(tiny_model()) + " --threads 1 --format npy -o " + quoted(out),
        "tokenize -m " + quoted(tiny_model()) + " -o " + quoted(out)}) {
    const auto r = run_bertc(cmd, bad_input);
    EXPECT_EQ(r.exit_code, 1) << cmd;
    EXPECT_EQ(r.err, "bertc: error: " + out + ": cannot create: directory " + (dir / "missing_dir") +
                         " does not exist\n") << cmd;
  }
  const auto c = run_bertc("convert /nonexistent/folder -o " + quoted(out));
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_NE(c.err.find(out + ": cannot create"), std::string::npos) << c.err;
  EXPECT_EQ(dir.count(), 0u);
}

// A model without pooler weights (the tiny BERT of the weights tests, pooler left out).
std::string no_pooler_model(const testing::TempDir& dir) {
  testing::TinyBert tiny;
  const std::string folder = dir / "no_pooler";
  tiny.write_folder(folder);
  testing::SafetensorsBuilder b = tiny.safetensors();
  testing::SafetensorsBuilder kept;
  for (const auto& [name, shape] : tiny.tensors()) {
    if (name.rfind("pooler.", 0) == 0) continue;
    const auto& offsets = b.header()[name]["data_offsets"];
    kept.add(name, "F32", shape, b.data().substr(offsets[0].get<size_t>(),
                                                  offsets[1].get<size_t>() - offsets[0].get<size_t>()));
  }
  testing::write_file(folder + "/model.safetensors", kept.build());
  const std::string out = dir / "no_pooler.bertc";
  EXPECT_EQ(run_bertc("convert -q " + quoted(folder) + " -o " + quoted(out)).exit_code, 0);
  return out;
}

TEST(OutputCli, FailedIndexBuildLeavesNothingAndARetryWorks) {
  testing::TempDir dir;
  const std::string model = no_pooler_model(dir);
  const std::string corpus = dir.write("corpus.txt", "tok5 tok6\ntok7\n");
  const std::string index = dir / "index";
  const std::string base = "index build -m " + quoted(model) + " --threads 1 -q --corpus ";
  // A model without a pooler asked for pooled: a usage error naming --pool, before any work.
  auto r = run_bertc(base + quoted(corpus) + " --pool pooled -o " + quoted(index));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--pool pooled: "), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(index));
  // Invalid UTF-8 in the corpus.
  const std::string bad = dir.write("bad.txt", "tok5\n\xFF\n");
  r = run_bertc(base + quoted(bad) + " -o " + quoted(index));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "bertc: error: " + bad + ":2: invalid UTF-8 at byte 1 (byte above 0xF4; "
                   "--utf8-errors replace to go on)\n");
  EXPECT_FALSE(fs::exists(index));
  // An existing empty directory stays, but empty, so the retry is welcome there too.
  fs::create_directories(index);
  r = run_bertc(base + quoted(bad) + " -o " + quoted(index));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(fs::is_empty(index));
  // The corrected retry works, and search finds what it built.
  r = run_bertc(base + quoted(corpus) + " -o " + quoted(index));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_bertc("search --index " + quoted(index) + " --threads 1 -q --format jsonl -k 1 tok7");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"mode\":\"mean\""), std::string::npos) << r.out;
}

}  // namespace
}  // namespace bertc
