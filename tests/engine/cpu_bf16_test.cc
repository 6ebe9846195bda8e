// BertModel on the CPU at --dtype bf16 (gemm inputs rounded to bf16, everything else f32) against
// the float64 references: tiny-st's bundles and the real all-MiniLM-L6-v2's ref_seed (skipped
// when models/ lacks it); and a sequence gives the same bits alone or inside a batch. Every CPU
// path (kernels/cpu/cpu_plan.h) for tiny-st and the batch invariance, the process plan for MiniLM.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "engine/bert.h"
#include "engine/make_backend.h"
#include "app/reference.h"
#include "engine_test_util.h"
#include "kernels/isa_params.h"

namespace bertc {
namespace {

std::unique_ptr<BertModel> load_bf16(const std::shared_ptr<const ModelFile>& file,
                                     std::optional<cpu::Isa> isa = std::nullopt) {
  BackendOptions bo;
  bo.cpu_isa = isa;
  bo.dtype = DType::kBF16;
  bo.max_tokens = 2048;  // ref_long holds 512 + 475 tokens
  bo.threads = 1;        // tests share the machine
  return std::make_unique<BertModel>(WeightSource::from_file(file), make_backend(bo), bo.max_tokens);
}

// Each gemm input keeps 8 significant bits (relative 2^-9 per value): measured, the hidden states
// (LayerNorm outputs up to ~5) move by up to 1.1e-2 (MiniLM) and the pooled outputs by 6.4e-3;
// the bounds leave ~4x. The goal is the direction: cosine >= 0.999 per embedding (issue: CPU
// speed, bf16); the worst measured is 0.99997. Each output's figures are printed for the notes.
ValidateOptions bf16_bounds() {
  ValidateOptions vo;
  vo.atol_hidden = 5e-2;
  vo.atol_pooled = 2.5e-2;
  vo.min_cosine = 0.999;
  return vo;
}

void expect_within(BertModel& model, const std::string& bundle_dir,
                   const std::optional<PoolingConfig>& pooling) {
  const auto bundle = load_reference(bundle_dir);
  for (const OutputDiff& d : validate_reference(model, bundle, pooling, bf16_bounds())) {
    std::cout << "[ bf16     ] " << std::filesystem::path(bundle_dir).filename().string() << " "
              << d.name << ": max abs " << d.max_abs << ", min cosine " << d.min_cosine << "\n";
    EXPECT_TRUE(d.ok()) << bundle_dir << " " << d.name << ": max abs " << d.max_abs << " (atol "
                        << d.atol << ") at row " << d.worst_row << ", min cosine " << d.min_cosine;
  }
}

class CpuBf16Isa : public ::testing::TestWithParam<cpu::Isa> {};

TEST_P(CpuBf16Isa, TinyStWithinBounds) {
  BERTC_KERNELS_OR_SKIP(kernels, GetParam());
  (void)kernels;
  const auto file = testing::converted(testing::fixture_model_dir("tiny-st"), "tiny-st");
  auto model = load_bf16(file, GetParam());
  for (const char* set : {"ref_sentences", "ref_pairs", "ref_long"})
    expect_within(*model, str_cat(BERTC_TEST_DATA, "/models/tiny-st/", set), std::nullopt);
}

TEST(CpuBf16, MiniLMWithinBounds) {
  if (!std::filesystem::exists(testing::minilm_dir() + "/model.safetensors"))
    GTEST_SKIP() << "models/all-MiniLM-L6-v2 is absent (tools/setup.sh fetches it)";
  const auto file = testing::converted(testing::minilm_dir(), "minilm");
  auto model = load_bf16(file);
  expect_within(*model, str_cat(BERTC_TEST_DATA, "/models/minilm/ref_seed"), file->pooling_config());
}

TEST_P(CpuBf16Isa, SequenceAloneMatchesInBatchBitwise) {
  BERTC_KERNELS_OR_SKIP(kernels, GetParam());
  (void)kernels;
  auto model =
      load_bf16(testing::converted(testing::fixture_model_dir("tiny-st"), "tiny-st"), GetParam());
  const auto [single, in_batch] = testing::alone_and_in_batch(*model);
  ASSERT_EQ(single.size(), in_batch.size());
  EXPECT_TRUE(test::same_bits(single.data(), in_batch.data(), static_cast<int64_t>(single.size())));
}

INSTANTIATE_TEST_SUITE_P(Isas, CpuBf16Isa, test::kIsas, test::IsaName());

}  // namespace
}  // namespace bertc
