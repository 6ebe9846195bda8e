// Tokenizer::from_model: the vocab and settings stored in a .bertc give the same ids as the
// folder's vocab.txt, tokenizer_config.json's do_lower_case / strip_accents are honoured, and the
// real all-MiniLM-L6-v2 (when installed) tokenizes the notebook sentences like bert-base-uncased.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/tokenizer/tokenizer_util.h"
#include "tests/weights/weights_test_util.h"
#include "weights/convert_bert.h"
#include "weights/model_file.h"

namespace bertc {
namespace {

namespace fs = std::filesystem;

const std::string kTinySt = std::string(BERTC_TEST_DATA) + "/models/tiny-st/model";

// Converts a copy of tiny-st with `tokenizer_config` (empty: none) and returns its tokenizer.
Tokenizer tiny_st_tokenizer(const testing::TempDir& dir, const std::string& tokenizer_config) {
  const std::string folder = dir / "model";
  fs::create_directory(folder);
  for (const char* f : {"config.json", "vocab.txt", "model.safetensors"}) {
    fs::copy_file(fs::path(kTinySt) / f, fs::path(folder) / f);
  }
  if (!tokenizer_config.empty()) testing::write_file(folder + "/tokenizer_config.json", tokenizer_config);
  convert_bert_folder(folder, dir / "model.bertc", {});
  return Tokenizer::from_model(*ModelFile::open(dir / "model.bertc"));
}

TEST(TokenizerModel, StoredVocabMatchesVocabTxt) {
  testing::TempDir dir;
  const Tokenizer from_model = tiny_st_tokenizer(dir, "");
  const Tokenizer& from_vocab = testing::make_tokenizer();
  EXPECT_TRUE(from_model.options().lower_case);
  EXPECT_TRUE(from_model.options().strip_accents);
  EXPECT_EQ(from_model.vocab().size(), from_vocab.vocab().size());
  for (const auto& row : testing::read_jsonl(testing::tokenizer_data("cases.jsonl"))) {
    const std::string text = row["text"];
    ASSERT_EQ(from_model.encode(text, 0).ids, from_vocab.encode(text, 0).ids) << text;
  }
}

TEST(TokenizerModel, CasedConfig) {
  testing::TempDir dir;
  const Tokenizer cased = tiny_st_tokenizer(dir, R"({"do_lower_case": false})");
  EXPECT_FALSE(cased.options().lower_case);
  EXPECT_FALSE(cased.options().strip_accents);  // unset: follows do_lower_case
  std::vector<int32_t> ids;
  cased.wordpieces("Hello hello", ids);  // the uncased vocab has no "Hello"
  EXPECT_EQ(ids, (std::vector<int32_t>{cased.unk_id(), 7592}));
}

TEST(TokenizerModel, LowerCaseWithoutAccentStripping) {
  testing::TempDir dir;
  const Tokenizer tok = tiny_st_tokenizer(dir, R"({"do_lower_case": true, "strip_accents": false})");
  EXPECT_TRUE(tok.options().lower_case);
  EXPECT_FALSE(tok.options().strip_accents);
  std::vector<int32_t> kept, stripped;
  tok.wordpieces("Café", kept);
  testing::make_tokenizer().wordpieces("Café", stripped);
  EXPECT_NE(kept, stripped);  // "é" is its own piece when accents stay
}

TEST(TokenizerModel, AllMiniLmL6V2) {
  const std::string folder = std::string(BERTC_MODELS_DIR) + "/all-MiniLM-L6-v2";
  if (!fs::exists(folder + "/model.safetensors")) GTEST_SKIP() << "no " << folder;
  testing::TempDir dir;
  convert_bert_folder(folder, dir / "minilm.bertc", {});
  const auto model = ModelFile::open(dir / "minilm.bertc");
  const Tokenizer tok = Tokenizer::from_model(*model);
  const Encoding e = tok.encode("He is sitting near the river bank", 512);
  EXPECT_EQ(e.ids, (std::vector<int32_t>{101, 2002, 2003, 3564, 2379, 1996, 2314, 2924, 102}));
  EXPECT_EQ(model->tokenizer_config().model_max_length, 512);
}

}  // namespace
}  // namespace bertc
