// BertModel on the CUDA backend, skipped without a device: the float64 PyTorch reference bundles
// of tiny-st (sentences, pairs, long: every hidden state, pooler, cls, mean) in each run precision
// and attention path; a sequence alone against the same sequence inside a batch; a batch replayed
// from its CUDA graph against the same batch run op by op; a bert-base-shaped random-weight model
// against the CPU engine (1 x 128 and a ragged batch); and the real all-MiniLM-L6-v2 against its
// sentence-transformers reference when models/ has it.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "app/reference.h"
#include "cuda_test_util.h"
#include "engine/bert.h"
#include "engine_test_util.h"
#include "weights/convert_bert.h"
#include "weights/model_file.h"

namespace bertc::test {
namespace {

// tiny-st converted once per process into a temp folder.
std::shared_ptr<const ModelFile> tiny_st() {
  static const std::string path = [] {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("bertc_cuda_model_test_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    const std::string out = (dir / "tiny-st.bertc").string();
    convert_bert_folder(std::string(BERTC_TEST_DATA) + "/models/tiny-st/model", out,
                        ConvertOptions{});
    return out;
  }();
  return ModelFile::open(path);
}

// f32 keeps the CPU engine's bounds (reference.h). In f16/bf16 every activation is stored in 16
// bits at each op boundary (about ten roundings per layer, relative 2^-11 / 2^-8 each, on
// LayerNorm outputs up to ~4.3), so errors of ~1e-2 (f16) and ~1e-1 (bf16) are expected; the
// cosines still show the embeddings point the same way.
ValidateOptions bounds_for(DType dtype) {
  ValidateOptions o;
  if (dtype == DType::kF16) {
    o.atol_hidden = 5e-2;
    o.atol_pooled = 5e-2;
    o.min_cosine = 0.999;
  } else if (dtype == DType::kBF16) {
    o.atol_hidden = 3e-1;
    o.atol_pooled = 3e-1;
    o.min_cosine = 0.99;
  }
  return o;
}

const char* path_name(CudaAttention a) {
  switch (a) {
    case CudaAttention::kSimt: return "simt";
    case CudaAttention::kGemm: return "gemm";
    case CudaAttention::kFlash: return "flash";
    default: return "auto";
  }
}

using ModelParam = std::tuple<DType, CudaAttention>;

class CudaModelTest : public CudaOpTestBase, public ::testing::WithParamInterface<ModelParam> {
 protected:
  void SetUp() override {
    if (!cuda_device_available()) GTEST_SKIP() << "no CUDA device";
    dtype_ = std::get<0>(GetParam());
  }
  BackendOptions options(bool graphs = true) const {
    BackendOptions o;
    o.device = Device::kCuda;
    o.dtype = dtype_;
    o.cuda_attention = std::get<1>(GetParam());
    o.cuda_graphs = graphs;
    o.max_tokens = 4096;
    o.max_seqs = 256;
    return o;
  }
  std::unique_ptr<BertModel> load(WeightSource weights, bool graphs = true) {
    const BackendOptions o = options(graphs);
    return std::make_unique<BertModel>(std::move(weights), make_backend(o), o.max_tokens);
  }
};

TEST_P(CudaModelTest, TinyStMatchesReferenceBundles) {
  const auto file = tiny_st();
  auto model = load(WeightSource::from_file(file));
  for (const char* set : {"ref_sentences", "ref_pairs", "ref_long"}) {
    const ReferenceBundle bundle =
        load_reference(std::string(BERTC_TEST_DATA) + "/models/tiny-st/" + set);
    for (const OutputDiff& d :
         validate_reference(*model, bundle, file->pooling_config(), bounds_for(dtype()))) {
      EXPECT_TRUE(d.ok()) << set << " " << d.name << ": max abs " << d.max_abs << " (atol "
                          << d.atol << "), min cosine " << d.min_cosine << " (bound "
                          << d.min_cosine_bound << "), worst row " << d.worst_row;
    }
  }
}

// The CUDA engine gives a sequence the same result alone or in a batch up to fp32 rounding, not
// bitwise: attention (simt, flash), LayerNorm and pooling are per-sequence and deterministic, but
// cuBLAS may pick a different GEMM kernel (tiling, split-K) for another N, which reorders the sums.
TEST_P(CudaModelTest, SequenceAloneMatchesInBatch) {
  auto model = load(WeightSource::from_file(tiny_st()));
  const auto [single, slice] = testing::alone_and_in_batch(*model);
  // f32: GEMM reordering over K <= 256 on values up to ~4: 1e-5. In 16 bits a reordered sum can
  // round an activation the other way (one ulp), which later layers carry: the model bounds.
  const double atol = dtype() == DType::kF32 ? 1e-5 : bounds_for(dtype()).atol_hidden;
  expect_close(single, slice, atol, 0.0);
}

// A batch seen once runs op by op, the second time it is recorded into a CUDA graph, then
// replayed; every run gives the same bits, also after batches of other lengths in between, and
// the same as a backend without graphs.
TEST_P(CudaModelTest, GraphReplayMatchesDirectRuns) {
  auto model = load(WeightSource::from_file(tiny_st()));
  auto direct = load(WeightSource::from_file(tiny_st()), /*graphs=*/false);
  PackedBatch batch, other;
  batch.add({101, 2002, 2003, 3564, 2379, 1996, 102}, {});
  batch.add(std::vector<int32_t>(70, 2924), {});
  other.add({101, 1996, 102}, {});
  std::vector<float> want, got, scratch;
  direct->to_host(direct->encode(batch, direct->num_layers()), want);
  for (int run = 0; run < 4; ++run) {
    SCOPED_TRACE(::testing::Message() << "run " << run);
    model->to_host(model->encode(batch, model->num_layers()), got);
    EXPECT_TRUE(same_bits(got.data(), want.data(), static_cast<int64_t>(want.size())));
    model->to_host(model->encode(other, model->num_layers()), scratch);  // another graph key
  }
  // Fewer layers is another tag: its own graph, not the full one.
  direct->to_host(direct->encode(batch, 1), want);
  for (int run = 0; run < 3; ++run) {
    model->to_host(model->encode(batch, 1), got);
    EXPECT_TRUE(same_bits(got.data(), want.data(), static_cast<int64_t>(want.size())));
  }
}

// bert-base's shape with random weights (no file needed): CUDA f32 (true fp32, no TF32) against
// the CPU engine, 1 x 128 and a ragged batch. Both sum in fp32 in different orders over 12
// layers: 1e-4 on hidden states of magnitude ~1-4 (the bound tools/hf_compare.py uses for f32).
TEST_P(CudaModelTest, BertBaseRandomMatchesCpu) {
  if (dtype() != DType::kF32) GTEST_SKIP() << "the CPU comparison runs at f32";
  const WeightSource weights = WeightSource::random(bert_base_config(), 42);
  auto gpu = load(weights);
  BackendOptions cpu_options;
  cpu_options.max_tokens = 4096;
  BertModel cpu(weights, make_backend(cpu_options), cpu_options.max_tokens);
  uint64_t state = 3;
  auto ids = [&](int len) {
    std::vector<int32_t> v(static_cast<size_t>(len));
    for (int32_t& id : v) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      id = static_cast<int32_t>((state >> 33) % 30522);
    }
    return v;
  };
  PackedBatch one, ragged;
  one.add(ids(128), {});
  for (int len : {17, 128, 1, 64, 99, 8, 33, 127}) ragged.add(ids(len), {});
  for (const PackedBatch* b : {&one, &ragged}) {
    SCOPED_TRACE(::testing::Message() << b->num_seqs() << " sequences");
    std::vector<float> want, got;
    cpu.to_host(cpu.encode(*b, cpu.num_layers()), want);
    gpu->to_host(gpu->encode(*b, gpu->num_layers()), got);
    expect_close(got, want, 1e-4, 0.0);
    cpu.to_host(cpu.pool(cpu.encode(*b, cpu.num_layers()), PoolMode::kPooled, true), want);
    gpu->to_host(gpu->pool(gpu->encode(*b, gpu->num_layers()), PoolMode::kPooled, true), got);
    expect_close(got, want, 1e-5, 0.0);
  }
}

// The real all-MiniLM-L6-v2 (H 384, D 32) when tools/setup.sh has fetched it: the same
// sentence-transformers reference as tests/engine/minilm_test.cc, at this precision's bounds.
TEST_P(CudaModelTest, MiniLmMatchesReference) {
  if (!std::filesystem::exists(testing::minilm_dir() + "/model.safetensors"))
    GTEST_SKIP() << "models/all-MiniLM-L6-v2 is absent (tools/setup.sh fetches it)";
  const auto file = testing::converted(testing::minilm_dir(), "minilm");
  auto model = load(WeightSource::from_file(file));
  const ReferenceBundle bundle =
      load_reference(std::string(BERTC_TEST_DATA) + "/models/minilm/ref_seed");
  // A trained model's activations reach larger magnitudes than tiny-st's (outlier dimensions), and
  // 16-bit errors scale with them: at f16/bf16 the per-row cosine is the bound, as in
  // tools/hf_compare.py; f32 keeps the CPU engine's absolute bounds.
  ValidateOptions bounds = bounds_for(dtype());
  if (dtype() != DType::kF32) bounds.atol_hidden = bounds.atol_pooled = INFINITY;
  for (const OutputDiff& d : validate_reference(*model, bundle, file->pooling_config(), bounds))
    EXPECT_TRUE(d.ok()) << d.name << ": max abs " << d.max_abs << " (atol " << d.atol
                        << "), min cosine " << d.min_cosine << " (bound " << d.min_cosine_bound
                        << "), worst row " << d.worst_row;
}

INSTANTIATE_TEST_SUITE_P(
    Cuda, CudaModelTest,
    ::testing::Combine(::testing::Values(DType::kF32, DType::kF16, DType::kBF16),
                       ::testing::Values(CudaAttention::kSimt, CudaAttention::kGemm,
                                         CudaAttention::kFlash)),
    [](const ::testing::TestParamInfo<ModelParam>& info) {
      return std::string(dtype_name(std::get<0>(info.param))) + "_" +
             path_name(std::get<1>(info.param));
    });

}  // namespace
}  // namespace bertc::test
