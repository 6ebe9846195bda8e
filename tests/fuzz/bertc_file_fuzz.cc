// libFuzzer target for the .bertc reader: the input is a whole file, handed to ModelFile::open
// through an in-memory file (memfd) so the real mmap path runs; a file that opens is then fully
// used (vocab, every tensor's bytes, checksums, fingerprint). Only bertc::Error may come out.
// Seeds: tools/fuzz.sh converts a small model made from the tiny-st fixture's files.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "weights/model_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int fd = ::memfd_create("bertc_fuzz", MFD_CLOEXEC);
  if (fd < 0 || ::ftruncate(fd, 0) != 0) return 0;
  if (size && ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) return 0;
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  try {
    auto m = bertc::ModelFile::open(path);
    volatile size_t sink = m->vocab().size() + m->fingerprint().size();
    for (const bertc::TensorInfo& t : m->tensors()) {
      const auto* p = static_cast<const unsigned char*>(t.data);
      if (t.nbytes) sink = sink + p[0] + p[t.nbytes - 1];
    }
    m->verify_checksums();
  } catch (const bertc::Error&) {
    // A clear refusal is the expected outcome for almost every input.
  }
  return 0;
}
