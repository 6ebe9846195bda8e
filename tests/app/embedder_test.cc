// Embedder on tiny-st: rows come back in input order whatever the batching, window mode is the
// mean of its windows, truncation is counted, and --pool words resolve as documented.
#include "app/embedder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "engine_test_util.h"
#include "tokenizer/tokenizer.h"

namespace bertc {
namespace {

class EmbedderTest : public ::testing::Test {
 protected:
  static std::unique_ptr<Embedder> make(int64_t max_tokens) {
    BackendOptions bo;
    bo.threads = 1;  // tiny model; tests share the machine
    return std::make_unique<Embedder>(
        testing::converted(testing::fixture_model_dir("tiny-st"), "tiny-st"), bo, max_tokens);
  }
  static std::vector<EmbedInput> texts(const std::vector<std::string>& t) {
    std::vector<EmbedInput> v(t.size());
    for (size_t i = 0; i < t.size(); ++i) v[i].text = t[i];
    return v;
  }
};

TEST_F(EmbedderTest, InputOrderAndBitsIndependentOfBatching) {
  const std::vector<std::string> t = {"a fairly long sentence with quite a few words in it",
                                      "short", "", "medium length text here", "x y"};
  EmbedOptions opt;
  opt.pools = {{PoolMode::kMean, false, "mean"}, {PoolMode::kMax, true, "max"}};
  auto big = make(4096), small = make(16);  // one batch vs. many
  const EmbedResult a = big->embed(texts(t), opt);
  const EmbedResult b = small->embed(texts(t), opt);
  ASSERT_EQ(a.rows, 5);
  for (size_t c = 0; c < 2; ++c) {
    ASSERT_EQ(a.matrices[c].size(), b.matrices[c].size());
    EXPECT_EQ(0, std::memcmp(a.matrices[c].data(), b.matrices[c].data(), a.matrices[c].size() * 4));
  }
  for (size_t i = 0; i < t.size(); ++i) {
    const EmbedResult one = small->embed(texts({t[i]}), opt);
    EXPECT_EQ(0, std::memcmp(one.matrices[0].data(), a.matrices[0].data() + i * 128, 128 * 4)) << i;
  }
  double norm = 0;
  for (int h = 0; h < 128; ++h) norm += double{a.matrices[1][h]} * a.matrices[1][h];
  EXPECT_NEAR(norm, 1.0, 1e-6);  // normalised in double, rounded once to float
}

TEST_F(EmbedderTest, WindowIsTheMeanOfItsWindows) {
  auto e = make(4096);
  const std::string text = "one two three four five six seven eight nine ten eleven twelve thirteen";
  std::vector<int32_t> wp;
  e->tokenizer().wordpieces(text, wp);
  ASSERT_EQ(wp.size(), 13u);
  EmbedOptions opt;
  opt.pools = {{PoolMode::kCls, false, "cls"}};
  opt.max_length = 8;  // windows of 6 wordpieces
  opt.stride = 4;      // starting at 0, 4, 8 (the last one ends at 13)
  opt.on_long = OnLong::kWindow;
  const EmbedResult got = e->embed(texts({text}), opt);
  EXPECT_EQ(got.windowed, 1);

  std::vector<EmbedInput> windows;
  for (int start : {0, 4, 8}) {
    EmbedInput in;
    in.pretokenized = true;
    in.input_ids.push_back(e->tokenizer().cls_id());
    in.input_ids.insert(in.input_ids.end(), wp.begin() + start, wp.begin() + std::min(start + 6, 13));
    in.input_ids.push_back(e->tokenizer().sep_id());
    windows.push_back(in);
  }
  const EmbedResult parts = e->embed(windows, opt);
  for (int h = 0; h < 128; ++h) {
    const double mean = (double{parts.matrices[0][h]} + parts.matrices[0][128 + h] + parts.matrices[0][256 + h]) / 3;
    EXPECT_EQ(got.matrices[0][h], static_cast<float>(mean)) << h;
  }

  opt.on_long = OnLong::kTruncate;
  EXPECT_EQ(e->embed(texts({text, "short"}), opt).truncated, 1);
  opt.on_long = OnLong::kError;
  try {
    std::vector<EmbedInput> in = texts({"short", text});
    in[1].line = 7;
    e->embed(in, opt);
    FAIL() << "expected an error";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("line 7: 15 tokens exceed the max length 8"), std::string::npos)
        << err.what();
  }
}

TEST_F(EmbedderTest, PoolWords) {
  auto e = make(256);
  const ModelFile& f = e->model_file();  // tiny-st: no sentence-transformers config
  auto p = parse_pool_choices("auto,cls,mean", false, f);
  ASSERT_EQ(p.size(), 2u);  // auto = mean here, so mean appears once
  EXPECT_EQ(p[0].name, "mean");
  EXPECT_EQ(p[1].name, "cls");
  p = parse_pool_choices("pooled", true, f);
  EXPECT_TRUE(p[0].normalize);
  EXPECT_THROW(parse_pool_choices("mean,", false, f), UsageError);
  EXPECT_THROW(parse_pool_choices("median", false, f), UsageError);
}

}  // namespace
}  // namespace bertc
