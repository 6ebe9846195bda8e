// BertModel: the BERT encoder (embeddings, post-LayerNorm layers, optional pooler) written once
// against Backend&, over packed batches. Checked against float64 PyTorch outputs in
// tests/engine/bert_test.cc (tiny-st, tiny-pt, all-MiniLM-L6-v2).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/backend.h"
#include "engine/batch.h"
#include "engine/tensor.h"
#include "weights/model_file.h"

namespace bertc {

// Where BertModel gets its weights: views into a mapped .bertc file, or host tensors made in
// memory (random weights for `bertc bench --random`, so no file is needed).
class WeightSource {
 public:
  static WeightSource from_file(std::shared_ptr<const ModelFile> file);
  // Weights drawn uniformly with the spread of HF's N(0, 0.02) init; LayerNorm gamma 1, beta 0.
  // Deterministic for a given seed.
  static WeightSource random(const BertConfig& config, uint64_t seed, bool with_pooler = true);

  const BertConfig& config() const { return config_; }
  const std::string& origin() const { return origin_; }  // the file path, or "random weights"
  const Tensor* find(std::string_view name) const;       // nullptr when absent
  // Tells the source that `t` (one of its tensors) has been copied by a backend: a file-backed
  // source drops its pages from memory (ModelFile::release_pages); random weights are freed when
  // this source is their only holder (a BertModel given a moved-in source), else they stay.
  void release(const Tensor& t);

 private:
  BertConfig config_;
  std::string origin_;
  std::map<std::string, Tensor, std::less<>> tensors_;
  std::shared_ptr<const ModelFile> file_;               // keeps the mapping alive
  std::vector<std::shared_ptr<std::vector<float>>> owned_;  // random weights
};

// bert-base-uncased's shape (vocab 30522, H 768, 12 layers, 12 heads, I 3072, 512 positions).
BertConfig bert_base_config();
// The tiny reference models' shape (tests/data/models/tiny-st): H 128, 2 layers, 2 heads, I 512.
BertConfig bert_tiny_config();

// Throws unless the forward pass below computes exactly what HF's BertModel computes for this
// config: exact erf GELU, absolute positions, H divisible by NH, positive sizes.
void check_supported(const BertConfig& config, const std::string& origin);

class BertModel {
 public:
  // Binds and checks every weight (names and shapes from the config), prepares them on the
  // backend, and allocates the one activation workspace for up to `max_tokens` packed tokens.
  // Keeps `weights` (a copy is cheap: shared handles), so the mapping outlives the model; weights
  // the backend copied are released (WeightSource::release), fully when `weights` was moved in.
  BertModel(WeightSource weights, std::unique_ptr<Backend> backend, int64_t max_tokens = 8192);
  ~BertModel();
  BertModel(const BertModel&) = delete;
  BertModel& operator=(const BertModel&) = delete;

  const BertConfig& config() const { return config_; }
  const std::string& origin() const { return origin_; }
  Backend& backend() { return *backend_; }
  int64_t max_tokens() const { return max_tokens_; }
  int64_t num_layers() const { return config_.num_hidden_layers; }
  bool has_pooler() const { return pooler_w_.data != nullptr; }

  // K in [-(L+1), L] -> [0, L]; negative counts from the top (-1 = last layer). Throws otherwise.
  int64_t resolve_layer(int64_t layer) const;

  // Embeddings and the first `layers` encoder layers (0 = embeddings output, as HF
  // hidden_states[0]) over `batch`. Returns hidden [N,H] on the backend: a workspace view valid
  // until the next call. Throws if the batch exceeds max_tokens or an id is out of range.
  Tensor encode(const PackedBatch& batch, int64_t layers);
  // Per-sequence vectors [B,H] from `hidden` (returned by encode for the same batch), a
  // workspace view. kPooled applies the pooler (dense + tanh on [CLS]); it needs the last layer.
  Tensor pool(const Tensor& hidden, PoolMode mode, bool normalize);

  // Copies a tensor returned by encode or pool to the host as float32 (widening f16/bf16
  // activations of a reduced-precision backend) into `host`, resized to fit.
  void to_host(const Tensor& t, std::vector<float>& host);

  // Multiply-add FLOPs of one encode over all layers: 2·m·n·k over every matmul, attention incl.
  double flops(const PackedBatch& batch) const;

 private:
  struct Layer {
    Tensor q_w, q_b, k_w, k_b, v_w, v_b;  // [H,H], [H]
    Tensor o_w, o_b, ln1_g, ln1_b;        // [H,H], [H]
    Tensor i_w, i_b;                      // [I,H], [I]
    Tensor f_w, f_b, ln2_g, ln2_b;        // [H,I], [H]
  };
  void check_batch(const PackedBatch& batch) const;

  WeightSource weights_;  // keeps the mmap (or the random host weights) alive
  BertConfig config_;
  std::string origin_;
  std::unique_ptr<Backend> backend_;
  int64_t max_tokens_ = 0;
  int64_t last_layers_ = -1;  // layers run by the last encode, to check pool(kPooled)
  int64_t batch_seqs_ = 0;    // B of the last encode

  Buffer weight_arena_;  // widened, packed or device copies of the weights; empty for f32 on CPU
  Tensor word_, position_, token_type_, emb_ln_g_, emb_ln_b_;
  std::vector<Layer> layers_;
  Tensor pooler_w_, pooler_b_;

  Buffer workspace_;
  Tensor hidden_;  // [maxN,H] the running hidden state
  Tensor q_, k_, v_, ctx_, tmp_;  // [maxN,H]
  Tensor inter_;   // [maxN,I]
  Tensor cls_, pooled_;  // [maxB,H]
  std::vector<uint16_t> half_staging_;  // to_host for f16/bf16 activations
};

}  // namespace bertc
