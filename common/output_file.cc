// OutputFile (common/output_file.h): what the destination is decides how it is written. Live temp
// paths sit in a fixed table of atomic slots so the SIGINT/SIGTERM handler can unlink them with
// async-signal-safe calls only.
#include "common/output_file.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

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

void register_tmp(const char* path) {
  for (auto& slot : g_live_tmp) {
    const char* expected = nullptr;
    if (slot.compare_exchange_strong(expected, path)) return;
  }
  // Table full: the destructor still cleans up, only a signal would miss this one.
}

void unregister_tmp(const char* path) {
  for (auto& slot : g_live_tmp) {
    const char* expected = path;
    if (slot.compare_exchange_strong(expected, nullptr)) return;
  }
}

// The descriptor a path names when it is one the shell handed us: "-" and /dev/stdout (1),
// /dev/stderr (2), /dev/fd/N and /proc/self/fd/N (N); -1 otherwise. Writing a dup of it keeps
// what the shell set up (append mode, the offset, a pipe's other end).
int inherited_fd(const std::string& path) {
  if (path == "-" || path == "/dev/stdout") return 1;
  if (path == "/dev/stderr") return 2;
  const std::string own_proc = "/proc/" + std::to_string(::getpid()) + "/fd/";
  for (const std::string prefix : {"/dev/fd/", "/proc/self/fd/", own_proc.c_str()}) {
    if (path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string n = path.substr(prefix.size());
    if (n.size() > 6 || n.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stoi(n);
  }
  return -1;
}

std::string dir_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Follows `path` through symlinks to the file it finally names (which may not exist yet). Sets
// *via_proc when a link lives under /proc: those name open descriptors, not paths to replace.
std::string follow_links(const std::string& path, bool* via_proc) {
  std::string p = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    const std::string dir = dir_of(p);
    char real[PATH_MAX];
    if (::realpath(dir.c_str(), real) && std::strncmp(real, "/proc/", 6) == 0) *via_proc = true;
    char buf[PATH_MAX];
    const ssize_t n = ::readlink(p.c_str(), buf, sizeof buf);
    BERTC_CHECK(n > 0, path, ": cannot read the symlink ", p, ": ", std::strerror(errno));
    const std::string target(buf, static_cast<size_t>(n));
    p = target[0] == '/' ? target : dir + "/" + target;
  }
  BERTC_FAIL(path, ": too many levels of symbolic links");
}

std::string octal_mode(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

// fsync, except where the destination cannot be synced (pipes, terminals, /dev/null).
bool sync_fd(int fd) { return ::fsync(fd) == 0 || errno == EINVAL || errno == EROFS; }

// Where an output goes and how, decided before anything is opened (OutputFile's rules).
struct Destination {
  enum Kind {
    kInherited,  // a descriptor the shell gave us ("-", /dev/fd/N): a dup of fd
    kDirect,     // a device, FIFO or socket, or a /proc fd link: opened and written as it is
    kReplace,    // a regular file of ours, or a new one: temp beside `target`, then rename
    kInPlace,    // a writable file we may not replace: contents rewritten at commit
  } kind = kReplace;
  int fd = -1;             // kInherited
  std::string target;      // the file finally written (symlinks followed)
  unsigned mode = 0;       // kReplace of an existing file: its permissions
  bool truncate = false;   // kDirect: open with O_TRUNC (a /proc link to a regular file)
};

Destination examine(const std::string& path) {
  BERTC_CHECK(!path.empty(), "output: empty file name");
  Destination d;
  d.target = path;
  if (const int n = inherited_fd(path); n >= 0) {
    BERTC_CHECK(::fcntl(n, F_GETFD) >= 0, path, ": descriptor ", n, " is not open");
    d.kind = Destination::kInherited;
    d.fd = n;
    return d;
  }
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    BERTC_CHECK(!S_ISDIR(st.st_mode), path, ": is a directory");
    if (!S_ISREG(st.st_mode)) {  // device, FIFO, socket: never replaced by a regular file
      BERTC_CHECK(::access(path.c_str(), W_OK) == 0, path, ": cannot open for writing: ",
                  std::strerror(errno));
      d.kind = Destination::kDirect;
      return d;
    }
  } else if (errno != ENOENT) {
    BERTC_FAIL(path, ": cannot write there: ", std::strerror(errno));
  }
  bool via_proc = false;
  d.target = follow_links(path, &via_proc);
  if (via_proc) {  // another process's /proc/PID/fd/N: opened as the kernel resolves it
    d.kind = Destination::kDirect;
    d.target = path;
    d.truncate = true;
    return d;
  }
  const std::string dir = dir_of(d.target);
  if (::stat(d.target.c_str(), &st) == 0) {
    if (::access(d.target.c_str(), W_OK) != 0)
      BERTC_FAIL(path, ": not writable (", std::strerror(errno), "); refusing to replace it");
    // Root may write anything; a file with no write permission at all is still not replaced.
    if ((st.st_mode & 0222) == 0)
      BERTC_FAIL(path, ": is read-only (mode ", octal_mode(st.st_mode),
                 "); refusing to replace it (chmod u+w it to allow that)");
    // Someone else's file we may write: a rename would make it ours, so copy over it instead;
    // likewise where the directory does not let us create the temp file.
    d.kind = st.st_uid != ::geteuid() || ::access(dir.c_str(), W_OK) != 0 ? Destination::kInPlace
                                                                        : Destination::kReplace;
    d.mode = st.st_mode & 07777;
    return d;
  }
  struct stat dst;
  BERTC_CHECK(::stat(dir.c_str(), &dst) == 0 && S_ISDIR(dst.st_mode), path,
              ": cannot create: directory ", dir, " does not exist");
  BERTC_CHECK(::access(dir.c_str(), W_OK) == 0, path, ": cannot create: ", std::strerror(errno));
  return d;
}

}  // namespace

void OutputFile::check(const std::string& path) { examine(path); }

OutputFile::OutputFile(std::string path, Access access)
    : path_(std::move(path)), name_(path_ == "-" ? "stdout" : path_) {
  install_handlers_once();
  const Destination d = examine(path_);
  target_ = d.target;
  target_mode_ = d.mode;
  switch (d.kind) {
    case Destination::kInherited: {
      const int fd = ::fcntl(d.fd, F_DUPFD_CLOEXEC, 3);
      BERTC_CHECK(fd >= 0, name_, ": descriptor ", d.fd, " is not open");
      open_direct(fd, access);
      return;
    }
    case Destination::kDirect: {
      const int fd = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC | (d.truncate ? O_TRUNC : 0));
      BERTC_CHECK(fd >= 0, name_, ": cannot open for writing: ", std::strerror(errno));
      open_direct(fd, access);
      return;
    }
    case Destination::kInPlace:
      target_fd_ = ::open(target_.c_str(), O_WRONLY | O_CLOEXEC);
      BERTC_CHECK(target_fd_ >= 0, name_, ": cannot open for writing: ", std::strerror(errno));
      mode_ = Mode::kInPlace;
      open_spool();
      return;
    case Destination::kReplace:
      open_temp_beside();
      return;
  }
}

void OutputFile::open_direct(int fd, Access access) {
  target_fd_ = fd;
  if (access == Access::kSeekable) {  // a pipe cannot seek: spool, copy on commit
    mode_ = Mode::kSpool;
    open_spool();
    return;
  }
  mode_ = Mode::kDirect;
  file_ = ::fdopen(fd, "wb");
  target_fd_ = -1;  // owned by file_ now
  if (!file_) {
    const int err = errno;
    ::close(fd);
    BERTC_FAIL(name_, ": cannot open for writing: ", std::strerror(err));
  }
}

void OutputFile::open_temp_beside() {
  mode_ = Mode::kRename;
  tmp_path_ = target_ + "." + std::to_string(::getpid()) + ".tmp";
  register_tmp(tmp_path_.c_str());
  ::unlink(tmp_path_.c_str());  // a stale one from a killed run with this pid
  const int fd = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd >= 0) {
    // The replacement keeps the replaced file's permissions; a new file gets 0666 less umask.
    if (target_mode_ != 0) ::fchmod(fd, target_mode_);
    file_ = ::fdopen(fd, "wb");
    if (file_) return;
    ::close(fd);
  }
  const int err = errno;
  unregister_tmp(tmp_path_.c_str());
  tmp_path_.clear();
  BERTC_FAIL(name_, ": cannot create a temp file beside it: ", std::strerror(err));
}

void OutputFile::open_spool() {
  file_ = std::tmpfile();
  if (!file_) {
    const int err = errno;
    if (target_fd_ >= 0) ::close(target_fd_);
    target_fd_ = -1;
    BERTC_FAIL(name_, ": cannot create a temp file in $TMPDIR: ", std::strerror(err));
  }
}

OutputFile::~OutputFile() {
  if (file_) std::fclose(file_);
  if (target_fd_ >= 0) ::close(target_fd_);
  if (!tmp_path_.empty()) {
    if (!committed_) ::unlink(tmp_path_.c_str());
    unregister_tmp(tmp_path_.c_str());
  }
}

void OutputFile::write(const void* data, size_t nbytes) {
  BERTC_CHECK(file_, name_, ": write after commit");
  if (nbytes && std::fwrite(data, 1, nbytes, file_) != nbytes)
    BERTC_FAIL(name_, ": write failed: ", std::strerror(errno));
}

void OutputFile::commit() {
  BERTC_CHECK(file_, name_, ": committed twice");
  int err = 0;  // the first failure's errno
  auto ok = [&err](bool success) {
    if (!success && !err) err = errno ? errno : EIO;
    return success && !err;
  };
  ok(std::fflush(file_) == 0);
  if (mode_ == Mode::kSpool || mode_ == Mode::kInPlace) {
    // Copy the spooled bytes to the destination opened at construction.
    ok(std::fseek(file_, 0, SEEK_SET) == 0);
    if (mode_ == Mode::kInPlace && !err)
      ok(::ftruncate(target_fd_, 0) == 0 && ::lseek(target_fd_, 0, SEEK_SET) == 0);
    std::vector<char> buf(size_t{1} << 16);
    for (size_t n; !err && (n = std::fread(buf.data(), 1, buf.size(), file_)) > 0;) {
      for (size_t done = 0; !err && done < n;) {
        const ssize_t w = ::write(target_fd_, buf.data() + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (ok(w > 0)) done += static_cast<size_t>(w);
      }
    }
    ok(!std::ferror(file_));
    if (!err) ok(sync_fd(target_fd_));
    ok(::close(target_fd_) == 0);
    target_fd_ = -1;
  } else if (!err) {
    ok(sync_fd(::fileno(file_)));
  }
  ok(std::fclose(file_) == 0);
  file_ = nullptr;
  BERTC_CHECK(!err, name_, ": write failed: ", std::strerror(err));
  if (mode_ == Mode::kRename && ::rename(tmp_path_.c_str(), target_.c_str()) != 0)
    BERTC_FAIL(name_, ": cannot rename ", tmp_path_, " to it: ", std::strerror(errno));
  committed_ = true;
}

}  // namespace bertc
