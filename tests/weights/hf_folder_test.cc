// Hugging Face folder reading: config.json rules and defaults, vocab.txt (LF, CRLF, empty and
// duplicate lines), tokenizer files (plain and AddedToken forms), pooling files, and the real
// all-MiniLM-L6-v2 folder when models/ has it.
#include "weights/hf_folder.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "tests/weights/weights_test_util.h"

namespace bertc {
namespace {

using testing::TempDir;
using testing::TinyBert;
using testing::write_file;

void expect_error(const std::function<void()>& fn, const std::string& file,
                  std::initializer_list<const char*> parts) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected '" << *parts.begin() << "'";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind(file + ": ", 0), 0u) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    for (const char* p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

TEST(HfFolder, ReadsTheTinyStFixture) {
  HfFolder f = read_hf_folder(std::string(BERTC_TEST_DATA) + "/models/tiny-st/model");
  EXPECT_EQ(f.config.hidden_size, 128);
  EXPECT_EQ(f.config.num_hidden_layers, 2);
  EXPECT_EQ(f.config.num_attention_heads, 2);
  EXPECT_EQ(f.config.intermediate_size, 512);
  EXPECT_EQ(f.config.vocab_size, 30522);
  EXPECT_EQ(f.vocab.size(), 30522u);
  EXPECT_EQ(f.vocab[0], "[PAD]");
  EXPECT_EQ(f.vocab[101], "[CLS]");
  EXPECT_FALSE(f.pooling);
  EXPECT_TRUE(f.tokenizer.do_lower_case);  // BertTokenizer's default without tokenizer_config.json
  EXPECT_EQ(f.tokenizer.model_max_length, 512);
  EXPECT_TRUE(f.weights_are_safetensors);
}

TEST(HfFolder, ReadsTheRealMiniLM) {
  std::string dir = std::string(BERTC_MODELS_DIR) + "/all-MiniLM-L6-v2";
  if (!std::filesystem::exists(dir + "/config.json")) GTEST_SKIP() << "models/all-MiniLM-L6-v2 absent";
  HfFolder f = read_hf_folder(dir);
  EXPECT_EQ(f.config.hidden_size, 384);
  EXPECT_EQ(f.config.num_hidden_layers, 6);
  EXPECT_EQ(f.config.num_attention_heads, 12);
  EXPECT_EQ(f.config.intermediate_size, 1536);
  EXPECT_EQ(f.config.layer_norm_eps, 1e-12);
  EXPECT_EQ(f.config.hidden_act, "gelu");
  EXPECT_EQ(f.vocab.size(), 30522u);
  EXPECT_TRUE(f.tokenizer.do_lower_case);
  EXPECT_FALSE(f.tokenizer.strip_accents);
  EXPECT_TRUE(f.tokenizer.tokenize_chinese_chars);
  EXPECT_EQ(f.tokenizer.model_max_length, 512);
  ASSERT_TRUE(f.pooling);
  EXPECT_EQ(f.pooling->mode, "mean");
  EXPECT_TRUE(f.pooling->normalize);
  EXPECT_EQ(f.pooling->max_seq_length, 256);
}

TEST(HfFolder, ConfigDefaultsAndRequiredFields) {
  TempDir dir;
  nlohmann::json c = TinyBert().config();
  c.erase("max_position_embeddings");
  c.erase("layer_norm_eps");
  c.erase("hidden_act");
  c["pad_token_id"] = nullptr;
  write_file(dir / "config.json", c.dump());
  BertConfig b = read_bert_config(dir / "config.json");
  EXPECT_EQ(b.max_position_embeddings, 512);
  EXPECT_EQ(b.layer_norm_eps, 1e-12);
  EXPECT_EQ(b.hidden_act, "gelu");
  EXPECT_EQ(b.pad_token_id, 0);

  const std::string path = dir / "config.json";
  auto expect_config_error = [&](nlohmann::json j, const char* part) {
    write_file(path, j.dump());
    expect_error([&] { read_bert_config(path); }, path, {part});
  };
  nlohmann::json missing = TinyBert().config();
  missing.erase("hidden_size");
  expect_config_error(missing, "required field \"hidden_size\" is missing");
  nlohmann::json wrong_type = TinyBert().config();
  wrong_type["num_hidden_layers"] = "2";
  expect_config_error(wrong_type, "\"num_hidden_layers\" must be an integer");
  nlohmann::json heads = TinyBert().config();
  heads["num_attention_heads"] = 3;
  expect_config_error(heads, "not a multiple of num_attention_heads 3");
  nlohmann::json roberta = TinyBert().config();
  roberta["model_type"] = "roberta";
  expect_config_error(roberta, "model_type is 'roberta'");
  nlohmann::json negative = TinyBert().config();
  negative["intermediate_size"] = -4;
  expect_config_error(negative, "intermediate_size = -4 is out of range");
  expect_config_error(nlohmann::json::array(), "expected a JSON object");
  write_file(path, "{\"hidden_size\": ");
  expect_error([&] { read_bert_config(path); }, path, {"not valid JSON"});
  expect_error([&] { read_bert_config(dir / "absent.json"); }, dir / "absent.json", {"missing"});
}

TEST(HfFolder, VocabLfCrlfAndFinalLine) {
  TempDir dir;
  write_file(dir / "v.txt", "[PAD]\r\nb\r\nc");
  EXPECT_EQ(read_vocab_txt(dir / "v.txt"), (std::vector<std::string>{"[PAD]", "b", "c"}));
  write_file(dir / "v.txt", "a\nb c\n");
  EXPECT_EQ(read_vocab_txt(dir / "v.txt"), (std::vector<std::string>{"a", "b c"}));
}

TEST(HfFolder, VocabErrors) {
  TempDir dir;
  const std::string p = dir / "vocab.txt";
  write_file(p, "a\n\nb\n");
  expect_error([&] { read_vocab_txt(p); }, p, {"line 2 is empty"});
  write_file(p, "a\nb\na\n");
  expect_error([&] { read_vocab_txt(p); }, p, {"token 'a' appears twice (lines 1 and 3)"});
  write_file(p, "a\n\xc3\x28\n");
  expect_error([&] { read_vocab_txt(p); }, p, {"line 2 is not valid UTF-8"});
  write_file(p, "");
  expect_error([&] { read_vocab_txt(p); }, p, {"empty"});
}

TEST(HfFolder, MissingSpecialTokenIsAnError) {
  TempDir dir;
  TinyBert t;
  t.write_folder(dir.path());
  write_file(dir / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nx\n");
  expect_error([&] { read_hf_folder(dir.path()); }, dir / "vocab.txt", {"special token '[MASK]' is missing"});
}

TEST(HfFolder, TokenizerFilesPlainAndAddedTokenForms) {
  TempDir dir;
  write_file(dir / "tokenizer_config.json",
             R"({"do_lower_case": false, "strip_accents": false, "tokenize_chinese_chars": false,
                 "model_max_length": 1000000000000000019884624838656,
                 "cls_token": {"content": "<s>", "lstrip": false}})");
  write_file(dir / "special_tokens_map.json", R"({"sep_token": "</s>"})");
  TokenizerConfig t = read_tokenizer_config(dir.path(), 128);
  EXPECT_FALSE(t.do_lower_case);
  EXPECT_EQ(t.strip_accents, std::optional<bool>(false));
  EXPECT_FALSE(t.tokenize_chinese_chars);
  EXPECT_EQ(t.model_max_length, 128);  // the "no limit" sentinel falls back to the positions
  EXPECT_EQ(t.cls_token, "<s>");
  EXPECT_EQ(t.sep_token, "</s>");
  EXPECT_EQ(t.unk_token, "[UNK]");
  write_file(dir / "tokenizer_config.json", R"({"do_lower_case": "yes"})");
  expect_error([&] { read_tokenizer_config(dir.path(), 128); }, dir / "tokenizer_config.json",
               {"\"do_lower_case\" must be true or false"});
}

TEST(HfFolder, PoolingConfigs) {
  TempDir dir;
  EXPECT_FALSE(read_pooling_config(dir.path()));
  std::filesystem::create_directories(dir / "1_Pooling");
  write_file(dir / "1_Pooling/config.json", R"({"pooling_mode_cls_token": true})");
  auto p = read_pooling_config(dir.path());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->mode, "cls");
  EXPECT_FALSE(p->normalize);
  EXPECT_EQ(p->max_seq_length, 0);
  write_file(dir / "1_Pooling/config.json",
             R"({"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": true})");
  expect_error([&] { read_pooling_config(dir.path()); }, dir / "1_Pooling/config.json",
               {"several pooling modes are on (cls and mean)"});
  write_file(dir / "1_Pooling/config.json", R"({"pooling_mode_mean_tokens": false})");
  expect_error([&] { read_pooling_config(dir.path()); }, dir / "1_Pooling/config.json",
               {"no pooling mode is on"});
}

TEST(HfFolder, NoWeightsIsAnError) {
  TempDir dir;
  TinyBert().write_folder(dir.path());
  std::filesystem::remove(dir / "model.safetensors");
  expect_error([&] { read_hf_folder(dir.path()); }, dir.path(), {"no weights"});
}

}  // namespace
}  // namespace bertc
