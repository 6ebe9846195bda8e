// WordVectors lookup and sentence vectors: word splitting, phrase-first matching (New_York), the
// exact -> lower -> capitalised fallbacks, OOV counts, and the zero vector for unknown texts.
#include "app/word_vectors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "weights/word2vec.h"

namespace bertc {
namespace {

namespace fs = std::filesystem;

using Words = std::vector<std::string_view>;

TEST(SplitWords, WhitespaceAndPunctuation) {
  EXPECT_EQ(split_words("He is sitting near the river bank."),
            (Words{"He", "is", "sitting", "near", "the", "river", "bank"}));
  EXPECT_EQ(split_words("  don't stop--well-known, (x)!\t\n"),
            (Words{"don't", "stop", "well-known", "x"}));
  EXPECT_EQ(split_words("'quoted' -dash- café naïve"), (Words{"quoted", "dash", "café", "naïve"}));
  EXPECT_EQ(split_words(""), Words{});
  EXPECT_EQ(split_words("?!..."), Words{});
}

class SentenceVectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bertc_w2v_engine_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::string txt = (dir_ / "vec.txt").string();
    std::ofstream(txt) << "New_York 1 0 0\n"
                          "new 0 1 0\n"
                          "york 0 0 1\n"
                          "city 0 2 0\n"
                          "Paris 4 0 0\n"
                          "the 0 0 3\n";
    Word2VecConvertOptions opt;
    opt.quiet = true;
    convert_word2vec(txt, (dir_ / "vec.bertc").string(), opt);
    w2v_ = std::make_unique<WordVectors>(WordVectors::open((dir_ / "vec.bertc").string()));
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<float> vec(const std::string& text, SentenceStats* stats = nullptr) {
    std::vector<float> out(3, -1.0f);
    SentenceStats s = sentence_vector(*w2v_, text, out.data());
    if (stats) *stats = s;
    return out;
  }

  fs::path dir_;
  std::unique_ptr<WordVectors> w2v_;
};

TEST_F(SentenceVectorTest, LookupExactOnly) {
  EXPECT_EQ(w2v_->find("new"), 1);
  EXPECT_EQ(w2v_->find("New"), -1);
  EXPECT_EQ(w2v_->word(4), "Paris");
}

TEST_F(SentenceVectorTest, PhraseBeforeWords) {
  SentenceStats s;
  // "new york" -> capitalised phrase New_York, counted once; "city" alone.
  EXPECT_EQ(vec("new york city", &s), (std::vector<float>{0.5f, 1.0f, 0.0f}));
  EXPECT_EQ(s.words, 3);
  EXPECT_EQ(s.found, 2);
  EXPECT_EQ(s.oov, 0);
}

TEST_F(SentenceVectorTest, CaseFallbacksAndOov) {
  SentenceStats s;
  // "THE" -> lower "the"; "paris" -> capitalised "Paris"; "zzz" unknown.
  EXPECT_EQ(vec("THE paris, zzz!", &s), (std::vector<float>{2.0f, 0.0f, 1.5f}));
  EXPECT_EQ(s.words, 3);
  EXPECT_EQ(s.found, 2);
  EXPECT_EQ(s.oov, 1);
}

TEST_F(SentenceVectorTest, NoKnownWordGivesZeroNotNan) {
  SentenceStats s;
  EXPECT_EQ(vec("qqq www", &s), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(s.found, 0);
  EXPECT_EQ(s.oov, 2);
  EXPECT_EQ(vec("", &s), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(s.words, 0);
}

TEST_F(SentenceVectorTest, NotAWord2VecFile) {
  EXPECT_THROW(WordVectors::open((dir_ / "vec.txt").string()), Error);
}

}  // namespace
}  // namespace bertc
