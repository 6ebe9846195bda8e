// engine/search against the tiny-st reference bundle: cosine matrices of the reference embeddings
// match sim_*.npy, and top-k over corpus rows 4..12 reproduces search.json's rankings wherever
// the gap to the next item exceeds the tolerance.
#include "app/search.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/npy.h"
#include "test_util.h"

namespace bertc {
namespace {

const std::string kRef = std::string(BERTC_TEST_DATA) + "/models/tiny-st/ref_sentences/";

// The embeddings are float32 casts of float64 results: cosines recomputed from them differ from
// the float64 cosines by ~1e-7; 1e-5 is the bundle's stated tolerance for cosines.
constexpr double kCosineTol = 1e-5;

TEST(Search, CosineMatricesMatchReference) {
  for (const char* mode : {"pooled", "mean", "cls"}) {
    std::string emb = std::string(mode) == "pooled" ? "pooler_output" : std::string(mode) == "mean" ? "mean_pooled" : "cls";
    NpyArray x = read_npy(kRef + emb + ".npy");
    NpyArray want = read_npy(kRef + "sim_" + mode + ".npy");
    std::vector<float> got = cosine_matrix(x.data.data(), x.dim(0), x.data.data(), x.dim(0), x.dim(1));
    SCOPED_TRACE(mode);
    test::expect_close(got, want.data, kCosineTol, 0);
  }
}

// Checks `got` (corpus indices, best first, with scores) against one search.json ranking: scores
// within tolerance, and the same set of items above every cut where the reference gap exceeds it.
void expect_ranking(const std::vector<SearchHit>& got, const nlohmann::json& ranking) {
  ASSERT_EQ(got.size(), ranking.size());
  std::vector<int64_t> got_set, want_set;
  for (size_t r = 0; r < got.size(); ++r) {
    EXPECT_NEAR(got[r].score, ranking[r]["cosine"].get<double>(), kCosineTol) << "rank " << r;
    got_set.push_back(got[r].index);
    want_set.push_back(ranking[r]["corpus_index"].get<int64_t>());
    if (ranking[r]["gap_to_next"].is_number() && ranking[r]["gap_to_next"].get<double>() > kCosineTol) {
      std::vector<int64_t> a = got_set, b = want_set;
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      EXPECT_EQ(a, b) << "items ranked 1.." << r + 1 << " differ";
    }
  }
}

TEST(Search, TopKReproducesReferenceRankings) {
  std::ifstream in(kRef + "search.json");
  nlohmann::json ref = nlohmann::json::parse(in);
  const std::vector<int64_t> corpus_rows = ref["corpus_rows"].get<std::vector<int64_t>>();
  for (const char* mode : {"pooled", "mean", "cls"}) {
    SCOPED_TRACE(mode);
    std::string emb = std::string(mode) == "pooled" ? "pooler_output" : std::string(mode) == "mean" ? "mean_pooled" : "cls";
    NpyArray x = read_npy(kRef + emb + ".npy");
    const int64_t dim = x.dim(1);
    std::vector<float> corpus;
    for (int64_t r : corpus_rows) corpus.insert(corpus.end(), x.data.begin() + r * dim, x.data.begin() + (r + 1) * dim);
    l2_normalize_rows(corpus.data(), static_cast<int64_t>(corpus_rows.size()), dim);
    for (const auto& q : ref["results"][mode]) {
      const int64_t row = q["query_row"].get<int64_t>();
      CorpusView view{corpus.data(), DType::kF32, static_cast<int64_t>(corpus_rows.size()), dim};
      auto hits = top_k(view, x.data.data() + row * dim, 1, 100, 1);
      SCOPED_TRACE(q["query"].get<std::string>());
      expect_ranking(hits[0], q["ranking"]);
    }
  }
}

TEST(Search, ZeroVectorsScoreZeroNotNan) {
  std::vector<float> a = {0, 0, 1, 0};
  std::vector<float> sim = cosine_matrix(a.data(), 2, a.data(), 2, 2);
  EXPECT_EQ(sim, (std::vector<float>{0, 0, 0, 1}));
  std::vector<float> corpus = {0, 0, 1, 0};
  CorpusView view{corpus.data(), DType::kF32, 2, 2};
  std::vector<float> zero_query = {0, 0};
  auto hits = top_k(view, zero_query.data(), 1, 5);
  ASSERT_EQ(hits[0].size(), 2u);  // k is clamped to the corpus size
  EXPECT_EQ(hits[0][0].index, 0);  // all scores 0: corpus order decides
  EXPECT_EQ(hits[0][0].score, 0);
}

}  // namespace
}  // namespace bertc
