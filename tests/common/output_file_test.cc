// OutputFile: a regular or new file is replaced by rename on commit and anything else (an
// exception, destruction, SIGINT, SIGTERM) leaves neither it nor a temp file; FIFOs, devices and
// /dev/fd/N are written directly and stay what they were; a symlink's target is what gets
// replaced; a read-only file is refused. The FIFO, the device node and the links are made in a
// temp directory (never the real /dev/null).
#include "common/output_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "common/error.h"
#include "tests/weights/weights_test_util.h"

namespace bertc {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// Reads a FIFO to its end in a thread, as the process on the other side of `-o FIFO` would.
class FifoReader {
 public:
  explicit FifoReader(const std::string& path)
      : thread_([this, path] { got_ = testing::read_file(path); }) {}
  std::string join() {
    thread_.join();
    return got_;
  }

 private:
  std::string got_;
  std::thread thread_;
};

TEST(OutputFile, NewFileAppearsOnlyOnCommit) {
  TempDir dir;
  OutputFile f(dir / "out");
  EXPECT_TRUE(f.replaces_by_rename());
  f.write("hello", 5);
  EXPECT_FALSE(fs::exists(dir / "out"));
  EXPECT_EQ(static_cast<long>(dir.count()), 1);  // the temp
  f.commit();
  EXPECT_EQ(testing::read_file(dir / "out"), "hello");
  EXPECT_EQ(static_cast<long>(dir.count()), 1);
}

TEST(OutputFile, UncommittedLeavesTheOldFile) {
  TempDir dir;
  testing::write_file(dir / "out", "old");
  {
    OutputFile f(dir / "out");
    f.write("new", 3);
  }
  EXPECT_EQ(testing::read_file(dir / "out"), "old");  // an earlier output survives a failed run
  EXPECT_EQ(static_cast<long>(dir.count()), 1);
}

TEST(OutputFile, ReplacementKeepsThePermissions) {
  TempDir dir;
  testing::write_file(dir / "out", "old");
  ::chmod((dir / "out").c_str(), 0600);
  OutputFile f(dir / "out");
  f.write("new", 3);
  f.commit();
  struct stat st;
  ASSERT_EQ(::stat((dir / "out").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(testing::read_file(dir / "out"), "new");
}

TEST(OutputFile, MissingDirectoryIsNamedAtConstruction) {
  TempDir dir;
  const std::string e = error_of([&] { OutputFile f(dir / "no/such/dir/out"); });
  EXPECT_NE(e.find(dir / "no/such/dir/out: cannot create: directory"), std::string::npos) << e;
  EXPECT_NE(e.find("does not exist"), std::string::npos) << e;
}

TEST(OutputFile, DirectoryIsRefused) {
  TempDir dir;
  const std::string e = error_of([&] { OutputFile f(dir.path()); });
  EXPECT_NE(e.find(": is a directory"), std::string::npos) << e;
}

TEST(OutputFile, ReadOnlyFileIsRefusedAndKept) {
  TempDir dir;
  testing::write_file(dir / "ro", "keep me");
  ::chmod((dir / "ro").c_str(), 0444);
  const std::string e = error_of([&] { OutputFile f(dir / "ro"); });
  // As root the mode bits are the reason; as anyone else, access(2) says so first.
  EXPECT_TRUE(e.find("refusing to replace it") != std::string::npos) << e;
  EXPECT_EQ(testing::read_file(dir / "ro"), "keep me");
  EXPECT_EQ(static_cast<long>(dir.count()), 1);
}

TEST(OutputFile, SymlinkTargetIsReplacedAndTheLinkKept) {
  TempDir dir;
  fs::create_directories(dir / "real");
  testing::write_file(dir / "real/target", "old");
  fs::create_symlink("real/target", dir / "link");  // relative, resolved against the link's dir
  OutputFile f(dir / "link");
  f.write("new", 3);
  f.commit();
  EXPECT_TRUE(fs::is_symlink(dir / "link"));
  EXPECT_EQ(testing::read_file(dir / "real/target"), "new");
  // A dangling link: its target is created.
  fs::create_symlink(dir / "real/new", dir / "dangling");
  OutputFile g(dir / "dangling");
  g.write("x", 1);
  g.commit();
  EXPECT_TRUE(fs::is_symlink(dir / "dangling"));
  EXPECT_EQ(testing::read_file(dir / "real/new"), "x");
}

TEST(OutputFile, FifoIsWrittenDirectly) {
  TempDir dir;
  const std::string fifo = dir / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  FifoReader reader(fifo);
  OutputFile f(fifo);  // blocks until the reader opens its end
  EXPECT_FALSE(f.replaces_by_rename());
  f.write("through", 7);
  f.commit();
  EXPECT_EQ(reader.join(), "through");
  EXPECT_TRUE(fs::is_fifo(fifo));
}

TEST(OutputFile, SeekableWriterIsSpooledToAFifo) {
  TempDir dir;
  const std::string fifo = dir / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  FifoReader reader(fifo);
  OutputFile f(fifo, OutputFile::Access::kSeekable);
  f.write("xxcd", 4);
  ASSERT_EQ(std::fseek(f.file(), 0, SEEK_SET), 0);
  f.write("ab", 2);
  f.commit();
  EXPECT_EQ(reader.join(), "abcd");
  EXPECT_TRUE(fs::is_fifo(fifo));
}

TEST(OutputFile, CharacterDeviceIsWrittenDirectly) {
  if (::geteuid() != 0) GTEST_SKIP() << "mknod of a character device needs root";
  TempDir dir;
  const std::string dev = dir / "null";
  ASSERT_EQ(::mknod(dev.c_str(), S_IFCHR | 0666, ::makedev(1, 3)), 0) << std::strerror(errno);
  for (auto access : {OutputFile::Access::kSequential, OutputFile::Access::kSeekable}) {
    OutputFile f(dev, access);
    f.write("gone", 4);
    f.commit();
    EXPECT_TRUE(fs::is_character_file(dev));
  }
  EXPECT_EQ(static_cast<long>(dir.count()), 1);
}

TEST(OutputFile, DevFdIsTheDescriptorItself) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  {
    OutputFile f("/dev/fd/" + std::to_string(fds[1]));
    f.write("piped", 5);
    f.commit();
  }
  ::close(fds[1]);
  char buf[16] = {};
  EXPECT_EQ(::read(fds[0], buf, sizeof buf), 5);
  EXPECT_STREQ(buf, "piped");
  ::close(fds[0]);
  EXPECT_NE(error_of([] { OutputFile f("/dev/fd/987"); }).find("is not open"), std::string::npos);
}

TEST(OutputFile, AnotherUsersWritableFileKeepsItsOwner) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown to another user needs root";
  TempDir dir;
  testing::write_file(dir / "theirs", "old contents");
  ASSERT_EQ(::chown((dir / "theirs").c_str(), 65534, 65534), 0);
  ::chmod((dir / "theirs").c_str(), 0664);
  {
    OutputFile f(dir / "theirs");
    f.write("failed", 6);  // not committed: the old contents stay
  }
  EXPECT_EQ(testing::read_file(dir / "theirs"), "old contents");
  OutputFile f(dir / "theirs");
  f.write("new", 3);
  f.commit();
  struct stat st;
  ASSERT_EQ(::stat((dir / "theirs").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_mode & 07777, 0664u);
  EXPECT_EQ(testing::read_file(dir / "theirs"), "new");
}

TEST(OutputFile, SignalsRemoveTempFiles) {
  for (int sig : {SIGINT, SIGTERM}) {
    TempDir dir;
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      OutputFile a(dir / "a"), b(dir / "b");
      a.write("partial", 7);
      ::raise(sig);
      ::_exit(0);  // not reached: the handler re-raises with the default action
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << "status " << status;
    EXPECT_TRUE(fs::is_empty(dir.path())) << "signal " << sig << " left files behind";
  }
}

TEST(OutputFile, FullDeviceIsAWriteError) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  const std::string e = error_of([] {
    OutputFile f("/dev/full");
    f.write("x", 1);
    f.commit();
  });
  EXPECT_NE(e.find("/dev/full: write failed: No space left on device"), std::string::npos) << e;
}

}  // namespace
}  // namespace bertc
