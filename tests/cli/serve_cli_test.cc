// `bertc serve` as a user runs it: the start-up line with the bound port (--port 0), SIGTERM
// stops it with exit 0, a second signal during the drain exits at once, usage errors exit 2.
// The HTTP behaviour itself is tests/app/serve_test.cc's.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <regex>
#include <thread>

#include <httplib.h>

#include "engine_test_util.h"

extern char** environ;

namespace bertc {
namespace {

std::string tiny_model() {
  return testing::converted_path(testing::fixture_model_dir("tiny-st"), "tiny-st");
}

// A `bertc serve` child whose stderr goes to a file.
class ServeProcess {
 public:
  explicit ServeProcess(const std::vector<std::string>& extra) {
    static int counter = 0;
    err_path_ = (testing::scratch_dir() / ("serve_err" + std::to_string(counter++))).string();
    std::vector<std::string> args = {BERTC_BINARY, "serve", "-m", tiny_model(), "--port", "0",
                                     "--threads", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    EXPECT_EQ(posix_spawn(&pid_, BERTC_BINARY, &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::string err() const { return test::read_file(err_path_); }
  // Polls stderr (bounded) until it matches `pattern`: the server's own readiness line.
  std::smatch wait_for(const std::string& pattern) {
    const std::regex re(pattern);
    for (int i = 0; i < 30000; ++i) {
      text_ = err();
      std::smatch m;
      if (std::regex_search(text_, m, re)) return m;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ADD_FAILURE() << "no /" << pattern << "/ on stderr: " << err();
    return {};
  }
  int port() {
    const std::smatch m = wait_for(R"(listening on http://127\.0\.0\.1:(\d+))");
    return m.empty() ? 0 : std::stoi(m[1].str());
  }
  void signal(int sig) { kill(pid_, sig); }
  // The exit code (128 + signal when killed by one).
  int wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = 0;
  std::string err_path_, text_;
};

TEST(ServeCli, SigtermStopsWithExitZero) {
  ServeProcess p({});
  const int port = p.port();
  ASSERT_GT(port, 0);
  httplib::Client c("127.0.0.1", port);
  auto r = c.Post("/embed", R"({"inputs": ["hello", "world"]})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(), 0) << p.err();
  EXPECT_NE(p.err().find("bertc serve: stopped"), std::string::npos) << p.err();
}

TEST(ServeCli, SecondSignalExitsAtOnce) {
  ServeProcess p({});
  const int port = p.port();
  ASSERT_GT(port, 0);
  // An idle keep-alive connection keeps the drain open (cpp-httplib waits out its keep-alive).
  httplib::Client c("127.0.0.1", port);
  c.set_keep_alive(true);
  auto r = c.Get("/health");
  ASSERT_TRUE(r);
  p.signal(SIGINT);
  p.wait_for("stopping");
  p.signal(SIGINT);
  EXPECT_EQ(p.wait(), 128 + SIGINT) << p.err();
}

TEST(ServeCli, UsageErrorsExitTwo) {
  const auto r = testing::run_bertc("serve -m '" + tiny_model() + "' --port 70000");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const auto m = testing::run_bertc("serve -m '" + tiny_model() + "' --max-batch-tokens 16 --port 0");
  EXPECT_EQ(m.exit_code, 2) << m.err;
  EXPECT_NE(m.err.find("--max-batch-tokens 16 is below the max length"), std::string::npos) << m.err;
  const auto h = testing::run_bertc("serve --help");
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("--max-concurrent-requests"), std::string::npos);
}

}  // namespace
}  // namespace bertc
