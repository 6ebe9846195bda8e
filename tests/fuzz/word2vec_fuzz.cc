// libFuzzer target for the word2vec reader: any byte string either reads as records or throws
// bertc::Error; nothing else (crash, sanitizer report, other exception) is acceptable.
// Run: build-fuzz/tests/fuzz/fuzz_word2vec -max_total_time=60 (see tests/fuzz/CMakeLists.txt).
#include <cstdint>
#include <cstdio>
#include <string>

#include "common/error.h"
#include "weights/word2vec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  std::FILE* f = fmemopen(bytes.data(), bytes.size() ? bytes.size() : 1, "rb");
  if (!f) return 0;
  if (bytes.empty()) std::fgetc(f);  // fmemopen needs size >= 1: consume the one byte
  try {
    bertc::Word2VecReader reader(f, "fuzz.bin");
    bertc::Word2VecRecord record;
    double sum = 0;
    while (reader.next(record)) {
      // Touch every value and byte so the sanitizers see any out-of-bounds view.
      for (int64_t d = 0; d < reader.dim(); ++d) sum += record.values[d];
      for (char c : record.word) sum += c;
    }
    if (sum == 0.5) std::fputc(0, stderr);  // keeps `sum` alive
  } catch (const bertc::Error&) {
  }
  std::fclose(f);
  return 0;
}
