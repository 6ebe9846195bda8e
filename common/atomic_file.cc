// AtomicFile: PATH.tmp, then fsync + rename on commit. Live temp paths sit in a fixed table of
// atomic slots so the SIGINT/SIGTERM handler can unlink them with async-signal-safe calls only.
#include "common/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "common/error.h"

namespace bertc {
namespace {

constexpr int kMaxLiveFiles = 64;
std::atomic<const char*> g_live_tmp[kMaxLiveFiles];

extern "C" void unlink_live_tmp_and_reraise(int sig) {
  for (auto& slot : g_live_tmp) {
    if (const char* p = slot.load()) ::unlink(p);
  }
  // Restore the default action and re-raise, so the exit status still says "killed by SIGINT".
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void install_handlers_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = unlink_live_tmp_and_reraise;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM}) {
      struct sigaction old {};
      // Leave alone a signal the parent asked us to ignore (nohup, background jobs).
      if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
      ::sigaction(sig, &sa, nullptr);
    }
  });
}

int register_tmp(const char* path) {
  for (int i = 0; i < kMaxLiveFiles; ++i) {
    const char* expected = nullptr;
    if (g_live_tmp[i].compare_exchange_strong(expected, path)) return i;
  }
  return -1;  // table full: the destructor still cleans up, only a signal would miss this one
}

void unregister_tmp(const char* path) {
  for (auto& slot : g_live_tmp) {
    const char* expected = path;
    if (slot.compare_exchange_strong(expected, nullptr)) return;
  }
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), tmp_path_(path_ + ".tmp") {
  install_handlers_once();
  register_tmp(tmp_path_.c_str());
  int fd = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) file_ = ::fdopen(fd, "wb");
  if (!file_) {
    int err = errno;
    if (fd >= 0) ::close(fd);
    unregister_tmp(tmp_path_.c_str());
    BERTC_FAIL(path_, ": cannot create ", tmp_path_, ": ", std::strerror(err));
  }
}

AtomicFile::~AtomicFile() {
  if (file_) std::fclose(file_);
  if (!committed_) ::unlink(tmp_path_.c_str());
  unregister_tmp(tmp_path_.c_str());
}

void AtomicFile::write(const void* data, size_t nbytes) {
  BERTC_CHECK(file_, path_, ": write after commit");
  if (nbytes && std::fwrite(data, 1, nbytes, file_) != nbytes)
    BERTC_FAIL(path_, ": write failed: ", std::strerror(errno));
}

void AtomicFile::commit() {
  BERTC_CHECK(file_, path_, ": committed twice");
  bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  int err = errno;
  ok = std::fclose(file_) == 0 && ok;
  file_ = nullptr;
  BERTC_CHECK(ok, path_, ": write failed: ", std::strerror(err ? err : errno));
  if (::rename(tmp_path_.c_str(), path_.c_str()) != 0)
    BERTC_FAIL(path_, ": cannot rename ", tmp_path_, ": ", std::strerror(errno));
  committed_ = true;
}

}  // namespace bertc
