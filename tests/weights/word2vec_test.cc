// word2vec reader and converter: the GloVe fixture in binary and text (with and without header)
// gives the same words and values; --limit, duplicates, NaN, and every malformed-file case fails
// with one message naming the file and the problem, leaving no output behind.
#include "weights/word2vec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "app/word_vectors.h"
#include "weights/model_file.h"
#include "weights/weights_test_util.h"

namespace bertc {
namespace {

namespace fs = std::filesystem;

const std::string kGloveBin = std::string(BERTC_TEST_DATA) + "/glove/glove_twitter_25d.w2v.bin";
const std::string kGloveTxt = std::string(BERTC_TEST_DATA) + "/glove/glove_twitter_25d.w2v.txt";


struct Entry {
  std::string word;
  std::vector<float> values;
};

struct ReadResult {
  bool binary = false;
  int64_t dim = 0;
  std::vector<Entry> entries;
};

ReadResult read_bytes(const std::string& bytes, const std::string& name = "test.w2v") {
  std::FILE* f = fmemopen(const_cast<char*>(bytes.data()), bytes.size(), "rb");
  ReadResult out;
  try {
    Word2VecReader reader(f, name);
    out.binary = reader.binary();
    out.dim = reader.dim();
    Word2VecRecord r;
    while (reader.next(r))
      out.entries.push_back({std::string(r.word), std::vector<float>(r.values, r.values + reader.dim())});
  } catch (...) {
    std::fclose(f);
    throw;
  }
  std::fclose(f);
  return out;
}

std::string read_error(const std::string& bytes) {
  try {
    read_bytes(bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string binary_record(const std::string& word, std::vector<float> values, bool newline = true) {
  std::string s = word + " ";
  s.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  return newline ? s + "\n" : s;
}

using testing::TempDir;
using test::read_file;

TEST(Word2VecReader, BinaryAndTextAgreeOnGlove) {
  ReadResult bin = read_bytes(read_file(kGloveBin));
  ReadResult txt = read_bytes(read_file(kGloveTxt));
  EXPECT_TRUE(bin.binary);
  EXPECT_FALSE(txt.binary);
  ASSERT_EQ(bin.dim, 25);
  ASSERT_EQ(txt.dim, 25);
  ASSERT_EQ(bin.entries.size(), 11925u);
  ASSERT_EQ(txt.entries.size(), bin.entries.size());
  for (size_t i = 0; i < bin.entries.size(); ++i) {
    ASSERT_EQ(txt.entries[i].word, bin.entries[i].word) << "record " << i;
    for (int d = 0; d < 25; ++d) {
      // The binary holds the float32 nearest to each decimal in the text, which is what
      // from_chars returns, so the values are identical.
      ASSERT_EQ(txt.entries[i].values[d], bin.entries[i].values[d]) << bin.entries[i].word << " " << d;
    }
  }
}

TEST(Word2VecReader, HeaderlessTextLikeGlove) {
  std::string txt = read_file(kGloveTxt);
  ReadResult with = read_bytes(txt);
  ReadResult without = read_bytes(txt.substr(txt.find('\n') + 1));
  EXPECT_FALSE(without.binary);
  ASSERT_EQ(without.entries.size(), with.entries.size());
  EXPECT_EQ(without.entries.back().word, with.entries.back().word);
  EXPECT_EQ(without.entries.back().values, with.entries.back().values);
}

TEST(Word2VecReader, BinaryWithoutNewlinesAndNonUtf8Words) {
  std::string bytes = "3 2\n" + binary_record("caf\xe9", {1, 2}, false) +
                      binary_record("New_York", {3, 4}, false) + binary_record("x", {5, 6}, false);
  ReadResult r = read_bytes(bytes);
  EXPECT_TRUE(r.binary);
  ASSERT_EQ(r.entries.size(), 3u);
  EXPECT_EQ(r.entries[0].word, "caf\xe9");  // Latin-1 bytes kept as they are
  EXPECT_EQ(r.entries[2].values, (std::vector<float>{5, 6}));
}

TEST(Word2VecReader, MalformedFiles) {
  std::string rec = binary_record("w", {1, 2});
  EXPECT_EQ(read_error(""), "test.w2v: file is empty (expected a word2vec binary or text file)");
  EXPECT_EQ(read_error("3 2\n" + rec + rec.substr(0, 5)), "test.w2v: record 2 of 3 is truncated");
  EXPECT_EQ(read_error("3 2\n" + rec + rec),
            "test.w2v: file ends after 2 of 3 records (wrong count in the header, or a truncated file)");
  EXPECT_EQ(read_error("1 2\n" + rec + rec),
            "test.w2v: data after the 1 records the header declares (wrong count in the header?)");
  EXPECT_EQ(read_error("3 0\n"), "test.w2v: header declares dim 0, expected 1..65536");
  EXPECT_EQ(read_error("3 100000\n"), "test.w2v: header declares dim 100000, expected 1..65536");
  EXPECT_EQ(read_error("2 3\na 1 2 3\nb 1 2\n"), "test.w2v: line 3 ('b') has 2 values, expected 3");
  EXPECT_EQ(read_error("2 3\na 1 2 3\nb 1 2 3 4\n"), "test.w2v: line 3 ('b') has more than 3 values");
  EXPECT_EQ(read_error("a 1 2\nb 1 x\n"), "test.w2v: line 2 ('b'): value 2 'x' is not a number");
  EXPECT_EQ(read_error("a\n"),
            "test.w2v: line 1 has no values (expected a `count dim` header or `word v1 v2 ...`)");
}

TEST(Word2VecReader, TruncatedEverywhereNeverCrashes) {
  // Every prefix of a small binary file either reads or fails with a message naming the file.
  std::string bytes = "2 3\n" + binary_record("ab", {1, 2, 3}) + binary_record("cd", {4, 5, 6});
  for (size_t n = 0; n < bytes.size(); ++n) {
    try {
      read_bytes(bytes.substr(0, n));
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("test.w2v: ", 0), 0u) << e.what();
    }
  }
}

TEST(Word2VecConvert, GloveBinaryRoundTripAndLookup) {
  TempDir dir;
  std::string out = dir / "glove.bertc";
  Word2VecConvertOptions opt;
  opt.quiet = true;
  Word2VecConvertStats stats = convert_word2vec(kGloveBin, out, opt);
  EXPECT_TRUE(stats.binary);
  EXPECT_EQ(stats.words, 11925);
  EXPECT_EQ(stats.duplicates, 0);
  WordVectors w2v = WordVectors::open(out);
  EXPECT_EQ(w2v.count(), 11925);
  EXPECT_EQ(w2v.dim(), 25);
  ReadResult src = read_bytes(read_file(kGloveBin));
  std::vector<float> v(25);
  for (size_t i = 0; i < src.entries.size(); i += 97) {
    int64_t row = w2v.find(src.entries[i].word);
    ASSERT_EQ(row, static_cast<int64_t>(i)) << src.entries[i].word;
    w2v.vector(row, v.data());
    EXPECT_EQ(v, src.entries[i].values);
  }
  EXPECT_EQ(w2v.find("no-such-word-in-glove"), -1);
  EXPECT_EQ(w2v.find(""), -1);
}

TEST(Word2VecConvert, LimitF16AndNormalize) {
  TempDir dir;
  Word2VecConvertOptions opt;
  opt.quiet = true;
  opt.limit = 100;
  opt.dtype = DType::kF16;
  opt.normalize = true;
  Word2VecConvertStats stats = convert_word2vec(kGloveTxt, dir / "g.bertc", opt);
  EXPECT_EQ(stats.records, 100);
  WordVectors w2v = WordVectors::open(dir / "g.bertc");
  EXPECT_EQ(w2v.count(), 100);
  EXPECT_EQ(w2v.dtype(), DType::kF16);
  EXPECT_TRUE(w2v.normalized());
  std::vector<float> v(25);
  w2v.vector(99, v.data());
  double norm = 0;
  for (float x : v) norm += double(x) * x;
  // f16 keeps 11 significant bits: each component is off by <= 2^-11 relative.
  EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-3);
  ReadResult src = read_bytes(read_file(kGloveTxt));
  EXPECT_EQ(w2v.find(src.entries[99].word), 99);
  EXPECT_EQ(w2v.find(src.entries[100].word), -1);
}

TEST(Word2VecConvert, DuplicatesKeepFirstAndAreCounted) {
  TempDir dir;
  std::string in = dir.write("dup.txt", "a 1 0\nb 0 1\na 5 5\nc 1 1\nb 9 9\n");
  Word2VecConvertOptions opt;
  opt.quiet = true;
  Word2VecConvertStats stats = convert_word2vec(in, dir / "dup.bertc", opt);
  EXPECT_EQ(stats.records, 5);
  EXPECT_EQ(stats.words, 3);
  EXPECT_EQ(stats.duplicates, 2);
  WordVectors w2v = WordVectors::open(dir / "dup.bertc");
  std::vector<float> v(2);
  w2v.vector(w2v.find("a"), v.data());
  EXPECT_EQ(v, (std::vector<float>{1, 0}));
  EXPECT_EQ(w2v.find("c"), 2);
}

// A header count lets the converter stream rows to the output; allow_nonfinite (its count goes
// in the metadata) makes it buffer them. Both must write the same bytes.
TEST(Word2VecConvert, StreamingAndBufferedWriteTheSameFile) {
  TempDir dir;
  Word2VecConvertOptions opt;
  opt.quiet = true;
  opt.dtype = DType::kF16;
  convert_word2vec(kGloveBin, dir / "streamed.bertc", opt);
  opt.allow_nonfinite = true;
  convert_word2vec(kGloveBin, dir / "buffered.bertc", opt);
  EXPECT_EQ(read_file(dir / "streamed.bertc"), read_file(dir / "buffered.bertc"));
}

// With a header count the converter streams, meets the duplicate, and starts again buffered.
TEST(Word2VecConvert, DuplicateInBinaryWithHeaderCount) {
  TempDir dir;
  std::string in = dir.write("dup.bin", "3 2\n" + binary_record("a", {1, 2}) +
                                            binary_record("b", {3, 4}) + binary_record("a", {5, 6}));
  Word2VecConvertOptions opt;
  opt.quiet = true;
  Word2VecConvertStats stats = convert_word2vec(in, dir / "dup.bertc", opt);
  EXPECT_EQ(stats.records, 3);
  EXPECT_EQ(stats.words, 2);
  EXPECT_EQ(stats.duplicates, 1);
  WordVectors w2v = WordVectors::open(dir / "dup.bertc");
  std::vector<float> v(2);
  w2v.vector(w2v.find("a"), v.data());
  EXPECT_EQ(v, (std::vector<float>{1, 2}));
  EXPECT_EQ(dir.count(), 2u);  // input and output: no temp file left by the abandoned attempt
}

TEST(Word2VecConvert, NonFiniteRejectedUnlessAllowed) {
  TempDir dir;
  std::string in = dir.write("nan.bin", "2 2\n" + binary_record("a", {1, 2}) +
                                            binary_record("b", {std::nanf(""), 1}));
  Word2VecConvertOptions opt;
  opt.quiet = true;
  try {
    convert_word2vec(in, dir / "nan.bertc", opt);
    FAIL() << "NaN accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              in + ": record 2 ('b'): value 1 is NaN (use --allow-nonfinite to keep such values)");
  }
  EXPECT_EQ(dir.count(), 1u);  // only the input: no output, no temp file
  opt.allow_nonfinite = true;
  EXPECT_EQ(convert_word2vec(in, dir / "nan.bertc", opt).nonfinite, 1);
}

TEST(Word2VecConvert, MalformedInputLeavesNothingBehind) {
  TempDir dir;
  std::string rec = binary_record("w", {1, 2});
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"3 2\n" + rec + rec.substr(0, 4), "record 2 of 3 is truncated"},
      {"3 2\n" + rec + rec, "file ends after 2 of 3 records"},
      {"3 0\n", "header declares dim 0"},
      {"", "file is empty"},
  };
  for (const auto& [bytes, message] : cases) {
    std::string in = dir.write("bad.bin", bytes);
    std::string out = dir / "bad.bertc";
    Word2VecConvertOptions opt;
    opt.quiet = true;
    try {
      convert_word2vec(in, out, opt);
      ADD_FAILURE() << "accepted: " << message;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(in + ": " + message, 0), 0u) << e.what();
    }
    EXPECT_EQ(dir.count(), 1u) << message;
  }
  Word2VecConvertOptions opt;
  EXPECT_THROW(convert_word2vec(dir / "missing.bin", dir / "x.bertc", opt), Error);
  EXPECT_THROW(convert_word2vec(BERTC_TEST_DATA, dir / "x.bertc", opt), Error);
}

}  // namespace
}  // namespace bertc
