// The real all-MiniLM-L6-v2 (models/, fetched by tools/setup.sh; skipped when absent) against
// tests/data/models/minilm/ref_seed (float64 transformers + sentence-transformers): token ids
// exact, hidden states within 1e-4, and the sentence-transformers embedding (mean pooling + L2
// normalisation at max_seq_length 256) with cosine >= 0.99999 per text, through the Embedder.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "app/embedder.h"
#include "engine/make_backend.h"
#include "common/npy.h"
#include "app/reference.h"
#include "engine_test_util.h"
#include "tokenizer/tokenizer.h"

namespace bertc {
namespace {

const std::string kBundle = std::string(BERTC_TEST_DATA) + "/models/minilm/ref_seed";

class MiniLM : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(testing::minilm_dir() + "/model.safetensors"))
      GTEST_SKIP() << "models/all-MiniLM-L6-v2 is absent (tools/setup.sh fetches it)";
    file_ = testing::converted(testing::minilm_dir(), "minilm");
  }
  std::shared_ptr<const ModelFile> file_;
};

TEST_F(MiniLM, TokenIdsExact) {
  const auto bundle = load_reference(kBundle);
  const Tokenizer tok = Tokenizer::from_model(*file_);
  ASSERT_EQ(bundle.sentences.size(), bundle.input_ids.size());
  for (size_t r = 0; r < bundle.sentences.size(); ++r)
    EXPECT_EQ(tok.encode(bundle.sentences[r], 512).ids, bundle.input_ids[r]) << "text " << r;
}

TEST_F(MiniLM, HiddenStatesAndPooledOutputs) {
  const auto bundle = load_reference(kBundle);
  BackendOptions bo;
  bo.max_tokens = 2048;
  bo.threads = 1;  // tests share a small machine; OpenMP spinning costs more than it gains
  BertModel model(WeightSource::from_file(file_), make_backend(bo), bo.max_tokens);
  const auto diffs = validate_reference(model, bundle, file_->pooling_config(), ValidateOptions{});
  EXPECT_EQ(diffs.size(), 5u);  // last_hidden_state, pooler_output, cls, mean_pooled, st_embedding
  for (const OutputDiff& d : diffs)
    EXPECT_TRUE(d.ok()) << d.name << ": max abs " << d.max_abs << " (atol " << d.atol << ") at row "
                        << d.worst_row << ", min cosine " << d.min_cosine;
}

TEST_F(MiniLM, EmbedderMatchesSentenceTransformers) {
  const auto bundle = load_reference(kBundle);
  BackendOptions bo;
  bo.threads = 1;
  Embedder embedder(file_, bo, 1024);  // a small budget: several batches
  EXPECT_EQ(embedder.default_max_length(), 256);
  const auto pools = parse_pool_choices("auto", false, *file_);
  ASSERT_EQ(pools.size(), 1u);
  EXPECT_EQ(pools[0].mode, PoolMode::kMean);
  EXPECT_TRUE(pools[0].normalize);
  const std::vector<float> got = embedder.embed_texts(bundle.sentences, pools[0]);
  const NpyArray want = read_npy(kBundle + "/st_embedding.npy");
  const int64_t H = embedder.dim();
  ASSERT_EQ(got.size(), want.data.size());
  for (size_t r = 0; r < bundle.sentences.size(); ++r) {
    double dot = 0, gg = 0, ww = 0, max_abs = 0;
    for (int64_t h = 0; h < H; ++h) {
      const double g = got[r * H + h], w = want.data[r * H + h];
      dot += g * w;
      gg += g * g;
      ww += w * w;
      max_abs = std::max(max_abs, std::abs(g - w));
    }
    EXPECT_GE(dot / std::sqrt(gg * ww), 0.99999) << "text " << r;
    EXPECT_LE(max_abs, 1e-5) << "text " << r;  // unit vectors of 384 values
  }
}

}  // namespace
}  // namespace bertc
