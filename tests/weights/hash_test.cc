// bertc_hash64: streaming equals one-shot for every split, and the value is pinned so a change
// to the function (which would invalidate every .bertc checksum) fails loudly.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "weights/hash.h"

namespace bertc {
namespace {

TEST(Hash64, StreamingEqualsOneShotForEverySplit) {
  std::vector<unsigned char> data(131);
  std::iota(data.begin(), data.end(), 7);
  for (size_t n : {0, 1, 7, 8, 31, 32, 33, 64, 100, 131}) {
    uint64_t whole = bertc_hash64(data.data(), n);
    for (size_t split = 0; split <= n; ++split) {
      Hasher64 h;
      h.update(data.data(), split);
      h.update(data.data() + split, n - split);
      ASSERT_EQ(h.finish(), whole) << "n=" << n << " split=" << split;
    }
  }
}

TEST(Hash64, DiffersOnOneBitAndOnLength) {
  std::vector<unsigned char> a(100, 0), b(100, 0);
  b[57] = 1;
  EXPECT_NE(bertc_hash64(a.data(), 100), bertc_hash64(b.data(), 100));
  EXPECT_NE(bertc_hash64(a.data(), 99), bertc_hash64(a.data(), 100));  // trailing zeros count
}

TEST(Hash64, PinnedValues) {
  // Also produced by an independent Python transcription of FORMAT.md, so spec and code agree.
  const char* text = "bertc: the .bertc checksum";
  EXPECT_EQ(bertc_hash64("", 0), 9791090899245468472ull);
  EXPECT_EQ(bertc_hash64(text, 26), 17495293743812225999ull);
}

}  // namespace
}  // namespace bertc
