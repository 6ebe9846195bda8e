// AtomicFile: every output bertc writes goes to PATH.tmp and is renamed to PATH on commit(), so a
// reader never sees a half-written file. Uncommitted temp files are removed by the destructor and,
// on SIGINT/SIGTERM, by a signal handler that knows every live temp path.
#pragma once

#include <cstdio>
#include <string>

namespace bertc {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);  // creates PATH.tmp; throws bertc::Error naming PATH
  ~AtomicFile();                          // removes PATH.tmp unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::FILE* file() { return file_; }
  const std::string& path() const { return path_; }
  void write(const void* data, size_t nbytes);  // throws on a short write (disk full)
  void commit();                                // flush, fsync, close, rename

 private:
  std::string path_;
  std::string tmp_path_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

}  // namespace bertc
