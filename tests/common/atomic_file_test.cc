// AtomicFile: commit renames, anything else (an exception, destruction, SIGINT, SIGTERM) leaves
// neither PATH nor PATH.tmp. Signals are tested in a forked child that kills itself mid-write.
#include "common/atomic_file.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "common/error.h"
#include "tests/weights/weights_test_util.h"

namespace bertc {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

TEST(AtomicFile, CommitRenames) {
  TempDir dir;
  AtomicFile f(dir / "out");
  f.write("hello", 5);
  EXPECT_TRUE(fs::exists(dir / "out.tmp"));
  EXPECT_FALSE(fs::exists(dir / "out"));
  f.commit();
  EXPECT_EQ(testing::read_file(dir / "out"), "hello");
  EXPECT_FALSE(fs::exists(dir / "out.tmp"));
}

TEST(AtomicFile, UncommittedLeavesNothing) {
  TempDir dir;
  testing::write_file(dir / "out", "old");
  {
    AtomicFile f(dir / "out");
    f.write("new", 3);
  }
  EXPECT_EQ(testing::read_file(dir / "out"), "old");  // an earlier output survives a failed run
  EXPECT_FALSE(fs::exists(dir / "out.tmp"));
}

TEST(AtomicFile, UncreatableNamesThePath) {
  TempDir dir;
  try {
    AtomicFile f(dir / "no/such/dir/out");
    ADD_FAILURE() << "created";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir / "no/such/dir/out: cannot create"), std::string::npos) << e.what();
  }
}

TEST(AtomicFile, SignalsRemoveTempFiles) {
  for (int sig : {SIGINT, SIGTERM}) {
    TempDir dir;
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      AtomicFile a(dir / "a"), b(dir / "b");
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

}  // namespace
}  // namespace bertc
