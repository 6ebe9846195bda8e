// BertModel on random weights: unsupported configs are errors, layers resolve as documented, and
// a sequence gives the same bits alone, inside any batch, and in any batch order.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/bert.h"
#include "common/error.h"
#include "engine/make_backend.h"
#include "kernels/isa_params.h"
#include "test_util.h"

namespace bertc {
namespace {

BertConfig small_config() {
  BertConfig c;
  c.vocab_size = 97;
  c.hidden_size = 64;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 96;
  c.max_position_embeddings = 40;
  c.type_vocab_size = 2;
  return c;
}

std::unique_ptr<BertModel> make_model(const BertConfig& c, bool pooler = true, int64_t max_tokens = 256,
                                      std::optional<cpu::Isa> isa = std::nullopt) {
  BackendOptions bo;
  bo.cpu_isa = isa;
  bo.max_tokens = max_tokens;
  bo.max_seqs = max_tokens;
  bo.threads = 1;  // tiny model; tests share the machine
  return std::make_unique<BertModel>(WeightSource::random(c, 1234, pooler), make_backend(bo), max_tokens);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(BertModel, UnsupportedConfigsAreErrors) {
  BertConfig c = small_config();
  c.hidden_act = "relu";
  EXPECT_NE(error_of([&] { make_model(c); }).find("hidden_act 'relu' is not supported"), std::string::npos);
  c = small_config();
  c.position_embedding_type = "relative_key";
  EXPECT_NE(error_of([&] { make_model(c); }).find("position_embedding_type 'relative_key' is not supported"),
            std::string::npos);
  c = small_config();
  c.num_attention_heads = 5;
  EXPECT_NE(error_of([&] { make_model(c); }).find("hidden_size 64 is not divisible by num_attention_heads 5"),
            std::string::npos);
  c = small_config();
  c.num_hidden_layers = 0;
  EXPECT_NE(error_of([&] { make_model(c); }).find("non-positive size"), std::string::npos);
}

TEST(BertModel, ResolvesLayersAndChecksBatches) {
  auto m = make_model(small_config());
  EXPECT_EQ(m->resolve_layer(-1), 2);
  EXPECT_EQ(m->resolve_layer(-3), 0);
  EXPECT_EQ(m->resolve_layer(1), 1);
  EXPECT_NE(error_of([&] { m->resolve_layer(3); }).find("layer 3 is out of range"), std::string::npos);
  EXPECT_NE(error_of([&] { m->resolve_layer(-4); }).find("layer -4 is out of range"), std::string::npos);

  PackedBatch too_long;
  too_long.add(std::vector<int32_t>(41, 1), {});
  EXPECT_NE(error_of([&] { m->encode(too_long, 2); }).find("exceeds max_position_embeddings 40"),
            std::string::npos);
  PackedBatch bad_id;
  bad_id.add({1, 97, 2}, {});
  EXPECT_NE(error_of([&] { m->encode(bad_id, 2); }).find("token id 97 is out of range"), std::string::npos);
  PackedBatch bad_type;
  bad_type.add({1, 2}, {0, 2});
  EXPECT_NE(error_of([&] { m->encode(bad_type, 2); }).find("token type id 2 is out of range"),
            std::string::npos);
  PackedBatch big;
  for (int i = 0; i < 8; ++i) big.add(std::vector<int32_t>(40, 3), {});
  EXPECT_NE(error_of([&] { m->encode(big, 2); }).find("exceeds the workspace (256 tokens)"),
            std::string::npos);
}

TEST(BertModel, PooledNeedsPoolerAndLastLayer) {
  auto m = make_model(small_config(), /*pooler=*/false);
  PackedBatch b;
  b.add({1, 5, 2}, {});
  Tensor h = m->encode(b, 2);
  EXPECT_NE(error_of([&] { m->pool(h, PoolMode::kPooled, false); })
                .find("random weights has no pooler weights; use --pool mean|cls|max"),
            std::string::npos);
  auto p = make_model(small_config());
  h = p->encode(b, 1);
  EXPECT_NE(error_of([&] { p->pool(h, PoolMode::kPooled, false); }).find("last layer only"),
            std::string::npos);
}

// Hidden states of every layer and every pooled output, per sequence, as host bytes.
struct Outputs {
  std::vector<std::vector<float>> per_seq;  // [seq] -> layer 0..L hidden rows, then 4 pools
};

Outputs run(BertModel& m, const std::vector<std::vector<int32_t>>& seqs, const std::vector<size_t>& order) {
  const int64_t H = m.config().hidden_size;
  PackedBatch b;
  for (size_t i : order) b.add(seqs[i], {});
  Outputs out;
  out.per_seq.resize(seqs.size());
  for (int64_t layer = 0; layer <= m.num_layers(); ++layer) {
    Tensor h = m.encode(b, layer);
    std::vector<float> host(static_cast<size_t>(h.numel()));
    m.backend().download(h, host.data());
    for (size_t k = 0; k < order.size(); ++k) {
      const size_t first = static_cast<size_t>(b.cu_seqlens[k] * H), last = static_cast<size_t>(b.cu_seqlens[k + 1] * H);
      auto& dst = out.per_seq[order[k]];
      dst.insert(dst.end(), host.begin() + static_cast<std::ptrdiff_t>(first), host.begin() + static_cast<std::ptrdiff_t>(last));
    }
  }
  Tensor h = m.encode(b, m.num_layers());
  for (PoolMode mode : {PoolMode::kPooled, PoolMode::kMean, PoolMode::kCls, PoolMode::kMax}) {
    for (bool normalize : {false, true}) {
      Tensor p = m.pool(h, mode, normalize);
      std::vector<float> host(static_cast<size_t>(p.numel()));
      m.backend().download(p, host.data());
      for (size_t k = 0; k < order.size(); ++k) {
        auto& dst = out.per_seq[order[k]];
        dst.insert(dst.end(), host.begin() + static_cast<std::ptrdiff_t>(k * H), host.begin() + static_cast<std::ptrdiff_t>((k + 1) * H));
      }
    }
  }
  return out;
}

class BertModelIsa : public ::testing::TestWithParam<cpu::Isa> {};

// On every CPU path (kernels/cpu/cpu_plan.h), in f32 and bf16.
TEST_P(BertModelIsa, BatchEqualsSingleBitwise) {
  BERTC_KERNELS_OR_SKIP(kernels, GetParam());
  (void)kernels;
  auto m = make_model(small_config(), true, 256, GetParam());
  // Mixed lengths, incl. 1 and 2 tokens and the longest allowed, so sequences land at every
  // offset of the packed rows.
  std::vector<std::vector<int32_t>> seqs;
  for (int len : {7, 1, 40, 2, 13, 5, 33, 3}) {
    std::vector<int32_t> ids;
    for (int t = 0; t < len; ++t) ids.push_back((len * 31 + t * 17) % 97);
    seqs.push_back(ids);
  }
  const Outputs together = run(*m, seqs, {0, 1, 2, 3, 4, 5, 6, 7});
  const Outputs reversed = run(*m, seqs, {7, 6, 5, 4, 3, 2, 1, 0});
  for (size_t i = 0; i < seqs.size(); ++i) {
    const Outputs alone = run(*m, seqs, {i});
    ASSERT_EQ(alone.per_seq[i].size(), together.per_seq[i].size());
    EXPECT_EQ(0, std::memcmp(alone.per_seq[i].data(), together.per_seq[i].data(), alone.per_seq[i].size() * 4))
        << "sequence " << i << " (length " << seqs[i].size() << ") differs alone vs in a batch";
    EXPECT_EQ(0, std::memcmp(reversed.per_seq[i].data(), together.per_seq[i].data(), alone.per_seq[i].size() * 4))
        << "sequence " << i << " differs with the batch order reversed";
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, BertModelIsa, test::kIsas, test::IsaName());

// A model given a copy of random weights leaves the source's tensors readable (a second model
// from the same source computes the same), and one given the source by move may free what its
// backend packed: both give the same bits.
TEST(BertModel, SharedRandomWeightsSurviveAndMovedOnesMatch) {
  BackendOptions bo;
  bo.threads = 1;
  const WeightSource shared = WeightSource::random(small_config(), 99);
  BertModel first(shared, make_backend(bo), 64), second(shared, make_backend(bo), 64);
  BertModel moved(WeightSource::random(small_config(), 99), make_backend(bo), 64);
  PackedBatch batch;
  batch.add({3, 14, 15, 92, 65}, {});
  std::vector<float> a, b, c;
  first.to_host(first.encode(batch, 2), a);
  second.to_host(second.encode(batch, 2), b);
  moved.to_host(moved.encode(batch, 2), c);
  EXPECT_TRUE(test::same_bits(a.data(), b.data(), static_cast<int64_t>(a.size())));
  EXPECT_TRUE(test::same_bits(a.data(), c.data(), static_cast<int64_t>(a.size())));
}

TEST(BertModel, FlopsCountEveryMatmul) {
  auto m = make_model(small_config());
  PackedBatch b;
  b.add(std::vector<int32_t>(10, 1), {});
  b.add(std::vector<int32_t>(4, 1), {});
  const double H = 64, I = 96, N = 14;
  const double per_layer = 2 * N * H * H * 4 + 2 * N * H * I * 2 + 4 * (10.0 * 10 + 4 * 4) * H;
  EXPECT_DOUBLE_EQ(m->flops(b), 2 * per_layer);
}

}  // namespace
}  // namespace bertc
