// OutputFile: the one way bertc writes an output, with one rule for what the destination is.
//   - a regular file of ours, or a new one: written to a temp file beside it, renamed over it on
//     commit(), so a reader never sees half a file and a failure leaves the old one untouched;
//   - a symlink: followed; its target is what gets written, by the rule above (the link stays);
//   - a device, a FIFO, a socket, "-" (stdout), /dev/stdout, /dev/fd/N, /proc/.../fd/N: written
//     directly (never replaced by a regular file);
//   - an existing file the user could not open for writing, or with no write permission at all
//     (mode 0444, even for root): refused, naming the file; one that belongs to another user but
//     is writable: written in place at commit, so it keeps its owner and mode;
//   - a directory, a missing parent directory: refused at construction, before any work.
// Uncommitted temp files are removed by the destructor and, on SIGINT/SIGTERM, by a signal
// handler that knows every live temp path. Checked by tests/common/output_file_test.cc.
#pragma once

#include <cstdio>
#include <string>

namespace bertc {

class OutputFile {
 public:
  // kSeekable: the writer seeks back (the .bertc writer rewrites its table); a direct destination
  // is then spooled to an unnamed temp file and copied on commit.
  enum class Access { kSequential, kSeekable };

  // Decides how `path` is written and opens it; throws bertc::Error naming PATH when it cannot be
  // written (so commands construct their outputs before the work).
  explicit OutputFile(std::string path, Access access = Access::kSequential);
  // The same checks without opening anything: for commands that must fail on a bad output
  // before long work but open the output only later (convert).
  static void check(const std::string& path);
  ~OutputFile();  // removes the temp file unless committed
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  std::FILE* file() { return file_; }
  const std::string& path() const { return path_; }
  // True when commit() renames a temp file over the destination (regular or new files).
  bool replaces_by_rename() const { return mode_ == Mode::kRename; }
  void write(const void* data, size_t nbytes);  // throws on a short write (disk full)
  void commit();                                // flush, fsync, close, then rename or copy

 private:
  enum class Mode { kRename, kDirect, kSpool, kInPlace };
  void open_direct(int fd, Access access);
  void open_temp_beside();
  void open_spool();

  std::string path_;         // as the user gave it
  std::string name_;         // in messages: path_, or "stdout" for "-"
  std::string target_;       // the file finally written (symlinks followed)
  std::string tmp_path_;     // kRename: the temp file; empty otherwise
  Mode mode_ = Mode::kRename;
  int target_fd_ = -1;       // kSpool / kInPlace: the destination, opened at construction
  unsigned target_mode_ = 0;  // an existing target's permissions; 0: a new file
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

}  // namespace bertc
