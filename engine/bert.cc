// BertModel: weight binding with shape checks, the workspace, and the forward pass as a sequence
// of Backend ops. Post-LayerNorm BERT as in HF transformers' BertModel (modeling_bert.py).
#include "engine/bert.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>

#include "common/error.h"

namespace bertc {
namespace {

std::string layer_name(int64_t i, std::string_view rest) {
  return str_cat("encoder.layer.", i, ".", rest);
}

struct Expected {
  std::string name;
  Shape shape;
};

// Every tensor the config implies, in the order they are bound. The pooler is optional.
std::vector<Expected> expected_tensors(const BertConfig& c) {
  const int64_t H = c.hidden_size, I = c.intermediate_size;
  std::vector<Expected> e = {
      {"embeddings.word_embeddings.weight", {c.vocab_size, H}},
      {"embeddings.position_embeddings.weight", {c.max_position_embeddings, H}},
      {"embeddings.token_type_embeddings.weight", {c.type_vocab_size, H}},
      {"embeddings.LayerNorm.weight", {H}},
      {"embeddings.LayerNorm.bias", {H}},
  };
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    for (const char* p : {"attention.self.query", "attention.self.key", "attention.self.value",
                          "attention.output.dense"}) {
      e.push_back({layer_name(i, str_cat(p, ".weight")), {H, H}});
      e.push_back({layer_name(i, str_cat(p, ".bias")), {H}});
    }
    e.push_back({layer_name(i, "attention.output.LayerNorm.weight"), {H}});
    e.push_back({layer_name(i, "attention.output.LayerNorm.bias"), {H}});
    e.push_back({layer_name(i, "intermediate.dense.weight"), {I, H}});
    e.push_back({layer_name(i, "intermediate.dense.bias"), {I}});
    e.push_back({layer_name(i, "output.dense.weight"), {H, I}});
    e.push_back({layer_name(i, "output.dense.bias"), {H}});
    e.push_back({layer_name(i, "output.LayerNorm.weight"), {H}});
    e.push_back({layer_name(i, "output.LayerNorm.bias"), {H}});
  }
  return e;
}

// expected_tensors in the order BertModel prepares them: per layer the Q, K and V weights, then
// their three biases (the file's order interleaves them), so that each three sit at one stride
// in a backend's arena, as gemm_qkv wants. Random weights keep the file's order of draws.
std::vector<Expected> preparation_order(std::vector<Expected> e) {
  for (size_t i = 0; i + 5 < e.size(); ++i) {
    if (!e[i].name.ends_with("attention.self.query.weight")) continue;
    // query.w, query.b, key.w, key.b, value.w, value.b -> the weights, then the biases
    std::vector<Expected> qkv = {e[i], e[i + 2], e[i + 4], e[i + 1], e[i + 3], e[i + 5]};
    std::move(qkv.begin(), qkv.end(), e.begin() + static_cast<std::ptrdiff_t>(i));
    i += 5;
  }
  return e;
}

// SplitMix64: a tiny deterministic generator for random weights (quality is irrelevant here).
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

size_t align64(size_t n) { return (n + 63) & ~size_t{63}; }

}  // namespace

WeightSource WeightSource::from_file(std::shared_ptr<const ModelFile> file) {
  BERTC_CHECK(file->kind() == ModelKind::kBert, file->path(),
              ": is a word2vec file, not a BERT model");
  WeightSource w;
  w.config_ = file->bert_config();
  w.origin_ = file->path();
  for (const TensorInfo& info : file->tensors()) {
    BERTC_CHECK(info.shape.size() <= 4, file->path(), ": tensor '", info.name, "' has rank ",
                info.shape.size(), " (at most 4 supported)");
    Tensor t;
    t.data = const_cast<void*>(info.data);  // read-only mapping: ops never write weights
    t.dtype = info.dtype;
    for (int64_t d : info.shape) t.shape.dims[t.shape.rank++] = d;
    w.tensors_.emplace(info.name, t);
  }
  w.file_ = std::move(file);
  return w;
}

WeightSource WeightSource::random(const BertConfig& config, uint64_t seed, bool with_pooler) {
  check_supported(config, "random weights");
  WeightSource w;
  w.config_ = config;
  w.origin_ = "random weights";
  std::vector<Expected> names = expected_tensors(config);
  if (with_pooler) {
    names.push_back({"pooler.dense.weight", {config.hidden_size, config.hidden_size}});
    names.push_back({"pooler.dense.bias", {config.hidden_size}});
  }
  uint64_t state = seed;
  // Uniform on [-a, a] with a = 0.02·sqrt(3) has HF's init standard deviation 0.02.
  const float a = 0.02f * std::sqrt(3.0f);
  for (const Expected& e : names) {
    // Each tensor starts on a 64-byte boundary, as in a .bertc file (weights/FORMAT.md): the CPU
    // gemm reads weight rows with 64-byte loads, and a misaligned row splits every one of them
    // across two cache lines. The vector gets 15 spare floats to slide the start into place.
    const size_t numel = static_cast<size_t>(e.shape.numel());
    auto data = std::make_shared<std::vector<float>>(numel + 15);
    const size_t skip = (64 - reinterpret_cast<uintptr_t>(data->data()) % 64) % 64 / sizeof(float);
    const std::span<float> values(data->data() + skip, numel);
    const bool is_ln = e.name.find("LayerNorm") != std::string::npos;
    const bool is_gamma = is_ln && e.name.ends_with(".weight");
    for (float& x : values) {
      if (is_ln) {
        x = is_gamma ? 1.0f : 0.0f;
      } else {
        double u = static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53;  // [0, 1)
        x = static_cast<float>((2.0 * u - 1.0) * a);
      }
    }
    Tensor t;
    t.data = values.data();
    t.shape = e.shape;
    w.tensors_.emplace(e.name, t);
    w.owned_.push_back(std::move(data));
  }
  return w;
}

void WeightSource::release(const Tensor& t) {
  if (file_) return file_->release_pages(t.data, t.nbytes());
  const float* data = static_cast<const float*>(t.data);  // t may be the entry erased below
  for (auto& owned : owned_) {
    const float* begin = owned ? owned->data() : nullptr;
    if (!begin || data < begin || data >= begin + owned->size()) continue;
    if (owned.use_count() > 1) return;  // another WeightSource still reads it
    for (auto it = tensors_.begin(); it != tensors_.end();) {
      it = it->second.data == data ? tensors_.erase(it) : std::next(it);
    }
    owned.reset();
    return;
  }
}

const Tensor* WeightSource::find(std::string_view name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

BertConfig bert_base_config() {
  BertConfig c;
  c.vocab_size = 30522;
  c.hidden_size = 768;
  c.num_hidden_layers = 12;
  c.num_attention_heads = 12;
  c.intermediate_size = 3072;
  c.max_position_embeddings = 512;
  c.type_vocab_size = 2;
  c.layer_norm_eps = 1e-12;
  return c;
}

BertConfig bert_tiny_config() {
  BertConfig c = bert_base_config();
  c.hidden_size = 128;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 512;
  return c;
}

void check_supported(const BertConfig& c, const std::string& origin) {
  BERTC_CHECK(c.hidden_act == "gelu", origin, ": hidden_act '", c.hidden_act,
              "' is not supported (bertc runs BERT's exact erf 'gelu' only)");
  BERTC_CHECK(c.position_embedding_type == "absolute", origin, ": position_embedding_type '",
              c.position_embedding_type, "' is not supported (only 'absolute')");
  BERTC_CHECK(c.vocab_size > 0 && c.hidden_size > 0 && c.num_hidden_layers > 0 &&
                  c.num_attention_heads > 0 && c.intermediate_size > 0 &&
                  c.max_position_embeddings > 0 && c.type_vocab_size > 0,
              origin, ": config has a non-positive size (vocab ", c.vocab_size, ", hidden ",
              c.hidden_size, ", layers ", c.num_hidden_layers, ", heads ", c.num_attention_heads,
              ", intermediate ", c.intermediate_size, ", positions ", c.max_position_embeddings,
              ", type vocab ", c.type_vocab_size, ")");
  BERTC_CHECK(c.hidden_size % c.num_attention_heads == 0, origin, ": hidden_size ",
              c.hidden_size, " is not divisible by num_attention_heads ", c.num_attention_heads);
  BERTC_CHECK(c.layer_norm_eps > 0 && std::isfinite(c.layer_norm_eps), origin,
              ": layer_norm_eps ", c.layer_norm_eps, " must be positive");
}

BertModel::BertModel(WeightSource weights, std::unique_ptr<Backend> backend, int64_t max_tokens)
    : weights_(std::move(weights)), config_(weights_.config()), origin_(weights_.origin()),
      backend_(std::move(backend)),
      max_tokens_(max_tokens) {
  check_supported(config_, origin_);
  BERTC_CHECK(max_tokens_ > 0, "BertModel: max_tokens must be positive, got ", max_tokens_);
  const BertConfig& c = config_;

  auto get = [&](const std::string& name, const Shape& shape) -> const Tensor& {
    const Tensor* t = weights_.find(name);
    BERTC_CHECK(t, origin_, ": tensor '", name, "' is missing");
    BERTC_CHECK(t->shape == shape, origin_, ": tensor '", name, "' has shape ", t->shape.str(),
                ", expected ", shape.str(), " from the config");
    BERTC_CHECK(t->dtype == DType::kF32 || t->dtype == DType::kF16 || t->dtype == DType::kBF16,
                origin_, ": tensor '", name, "' has dtype ", dtype_name(t->dtype),
                ", expected f32, f16 or bf16");
    return *t;
  };
  std::vector<Expected> names = preparation_order(expected_tensors(c));
  const Tensor* pw = weights_.find("pooler.dense.weight");
  const Tensor* pb = weights_.find("pooler.dense.bias");
  BERTC_CHECK(!pw == !pb, origin_, ": pooler has only one of pooler.dense.weight and .bias");
  if (pw) {
    names.push_back({"pooler.dense.weight", {c.hidden_size, c.hidden_size}});
    names.push_back({"pooler.dense.bias", {c.hidden_size}});
  }

  // Two passes: size the arena (null arena), allocate it once, then prepare into it. The dense
  // layers' weights (every rank-2 tensor outside the embeddings) are only ever gemm's w.
  std::vector<const Tensor*> host;
  std::vector<bool> gemm_weight;
  for (const Expected& e : names) {
    host.push_back(&get(e.name, e.shape));
    gemm_weight.push_back(e.shape.rank == 2 && !e.name.starts_with("embeddings."));
  }
  auto prepare = [&](size_t j, Buffer* arena, size_t& offset) {
    return gemm_weight[j] ? backend_->prepare_gemm_weight(*host[j], arena, offset)
                          : backend_->prepare_weight(*host[j], arena, offset);
  };
  size_t arena_nbytes = 0;
  for (size_t j = 0; j < host.size(); ++j) prepare(j, nullptr, arena_nbytes);
  if (arena_nbytes) weight_arena_ = backend_->allocate(arena_nbytes);
  size_t offset = 0;
  std::vector<Tensor> prepared;
  for (size_t j = 0; j < host.size(); ++j) {
    prepared.push_back(prepare(j, &weight_arena_, offset));
    if (prepared.back().data != host[j]->data) weights_.release(*host[j]);  // not held twice
  }

  size_t i = 0;
  word_ = prepared[i++];
  position_ = prepared[i++];
  token_type_ = prepared[i++];
  emb_ln_g_ = prepared[i++];
  emb_ln_b_ = prepared[i++];
  layers_.resize(static_cast<size_t>(c.num_hidden_layers));
  for (Layer& l : layers_) {
    for (Tensor* t : {&l.q_w, &l.k_w, &l.v_w, &l.q_b, &l.k_b, &l.v_b, &l.o_w, &l.o_b, &l.ln1_g,
                      &l.ln1_b, &l.i_w, &l.i_b, &l.f_w, &l.f_b, &l.ln2_g, &l.ln2_b})
      *t = prepared[i++];
  }
  if (pw) {
    pooler_w_ = prepared[i++];
    pooler_b_ = prepared[i++];
  }

  // One workspace for every activation; the forward pass never allocates.
  const int64_t H = c.hidden_size, I = c.intermediate_size, N = max_tokens_;
  const DType dt = backend_->compute_dtype();
  const size_t esz = dtype_nbytes(dt);
  const size_t nh = align64(static_cast<size_t>(N * H) * esz);
  const size_t ni = align64(static_cast<size_t>(N * I) * esz);
  workspace_ = backend_->allocate(6 * nh + ni + 2 * nh);
  size_t off = 0;
  auto take = [&](Shape shape, size_t nbytes) {
    Tensor t = workspace_.view(off, dt, shape);
    off += nbytes;
    return t;
  };
  hidden_ = take({N, H}, nh);
  // q_, k_, v_ one after the other, nh bytes apart: the one stride gemm_qkv can run as one launch.
  q_ = take({N, H}, nh);
  k_ = take({N, H}, nh);
  v_ = take({N, H}, nh);
  ctx_ = take({N, H}, nh);
  tmp_ = take({N, H}, nh);
  inter_ = take({N, I}, ni);
  cls_ = take({N, H}, nh);  // B <= N: a sequence has at least one token
  pooled_ = take({N, H}, nh);
}

BertModel::~BertModel() = default;

int64_t BertModel::resolve_layer(int64_t layer) const {
  const int64_t L = config_.num_hidden_layers;
  BERTC_CHECK(layer >= -(L + 1) && layer <= L, origin_, ": layer ", layer,
              " is out of range for a model with ", L, " layers (0..", L, ", or -1..-", L + 1,
              " from the top)");
  return layer < 0 ? L + 1 + layer : layer;
}

void BertModel::check_batch(const PackedBatch& batch) const {
  const int64_t N = batch.num_tokens(), B = batch.num_seqs();
  BERTC_CHECK(B > 0 && N > 0, origin_, ": empty batch");
  BERTC_CHECK(N <= max_tokens_, origin_, ": batch of ", N, " tokens exceeds the workspace (",
              max_tokens_, " tokens)");
  BERTC_CHECK(batch.token_type_ids.size() == batch.input_ids.size() &&
                  batch.position_ids.size() == batch.input_ids.size() &&
                  batch.cu_seqlens.front() == 0 && batch.cu_seqlens.back() == N,
              origin_, ": malformed packed batch");
  for (int64_t b = 0; b < B; ++b) {
    const int64_t len = batch.cu_seqlens[b + 1] - batch.cu_seqlens[b];
    BERTC_CHECK(len > 0, origin_, ": sequence ", b, " of the batch is empty");
    BERTC_CHECK(len <= config_.max_position_embeddings, origin_, ": sequence of ", len,
                " tokens exceeds max_position_embeddings ", config_.max_position_embeddings);
  }
  for (int64_t n = 0; n < N; ++n) {
    BERTC_CHECK(batch.input_ids[n] >= 0 && batch.input_ids[n] < config_.vocab_size, origin_,
                ": token id ", batch.input_ids[n], " is out of range (vocab size ",
                config_.vocab_size, ")");
    BERTC_CHECK(batch.token_type_ids[n] >= 0 && batch.token_type_ids[n] < config_.type_vocab_size,
                origin_, ": token type id ", batch.token_type_ids[n],
                " is out of range (type_vocab_size ", config_.type_vocab_size, ")");
    BERTC_CHECK(batch.position_ids[n] >= 0 &&
                    batch.position_ids[n] < config_.max_position_embeddings,
                origin_, ": position id ", batch.position_ids[n], " is out of range");
  }
}

Tensor BertModel::encode(const PackedBatch& batch, int64_t layers) {
  BERTC_CHECK(layers >= 0 && layers <= num_layers(), origin_, ": cannot run ", layers,
              " layers of ", num_layers());
  check_batch(batch);
  const int64_t N = batch.num_tokens();
  const float eps = static_cast<float>(config_.layer_norm_eps);
  Backend& be = *backend_;
  be.begin_batch(batch);

  Tensor h = hidden_.rows(0, N);  // [N,H]
  Tensor q = q_.rows(0, N), k = k_.rows(0, N), v = v_.rows(0, N);
  Tensor ctx = ctx_.rows(0, N), tmp = tmp_.rows(0, N);
  Tensor inter = inter_.rows(0, N);  // [N,I]
  const Tensor no_bias;
  // The same ops on the same workspace views for every batch of these lengths: replayable. The
  // batch was checked above (check_batch), so a replay may skip embed's host-side id checks.
  be.run_ops(static_cast<uint64_t>(layers), [&] {
    be.embed(word_, position_, token_type_, emb_ln_g_, emb_ln_b_, eps, h);
    for (int64_t li = 0; li < layers; ++li) {
      const Layer& l = layers_[static_cast<size_t>(li)];
      be.gemm_qkv(h, {l.q_w, l.k_w, l.v_w}, {l.q_b, l.k_b, l.v_b}, {q, k, v});
      be.attention(q, k, v, config_.num_attention_heads, ctx);
      // The output biases go into the fused bias+residual+LayerNorm, not the GEMM.
      be.gemm(ctx, l.o_w, no_bias, tmp);
      be.add_bias_residual_layer_norm(tmp, l.o_b, h, l.ln1_g, l.ln1_b, eps, h);
      be.gemm_bias_gelu(h, l.i_w, l.i_b, inter);
      be.gemm(inter, l.f_w, no_bias, tmp);
      be.add_bias_residual_layer_norm(tmp, l.f_b, h, l.ln2_g, l.ln2_b, eps, h);
    }
  });
  last_layers_ = layers;
  batch_seqs_ = batch.num_seqs();
  return h;
}

Tensor BertModel::pool(const Tensor& hidden, PoolMode mode, bool normalize) {
  BERTC_CHECK(batch_seqs_ > 0, origin_, ": pool() called before encode()");
  const int64_t B = batch_seqs_;
  Tensor out = pooled_.rows(0, B);  // [B,H]
  if (mode == PoolMode::kPooled) {
    BERTC_CHECK(has_pooler(), origin_, " has no pooler weights; use --pool mean|cls|max");
    BERTC_CHECK(last_layers_ == num_layers(), origin_,
                ": the pooler applies to the last layer only, not layer ", last_layers_);
    Tensor cls = cls_.rows(0, B);
    backend_->pool(hidden, PoolMode::kCls, cls);
    backend_->gemm(cls, pooler_w_, pooler_b_, out);
    backend_->tanh(out);
  } else {
    backend_->pool(hidden, mode, out);
  }
  if (normalize) backend_->l2_normalize(out);
  return out;
}

void BertModel::to_host(const Tensor& t, std::vector<float>& host) {
  host.resize(static_cast<size_t>(t.numel()));
  if (t.dtype == DType::kF32) {
    backend_->download(t, host.data());
    return;
  }
  BERTC_CHECK(t.dtype == DType::kF16 || t.dtype == DType::kBF16, origin_,
              ": cannot read back activations of dtype ", dtype_name(t.dtype));
  half_staging_.resize(host.size());
  backend_->download(t, half_staging_.data());
  for (size_t i = 0; i < host.size(); ++i)
    host[i] = t.dtype == DType::kF16 ? f16_to_f32(half_staging_[i]) : bf16_to_f32(half_staging_[i]);
}

double BertModel::flops(const PackedBatch& batch) const {
  const double H = static_cast<double>(config_.hidden_size);
  const double I = static_cast<double>(config_.intermediate_size);
  const double N = static_cast<double>(batch.num_tokens());
  double attn = 0;  // q·k^T and p·v: 2·T·T·D per head each, so 4·T²·H per sequence
  for (int64_t b = 0; b < batch.num_seqs(); ++b) {
    const double T = batch.cu_seqlens[b + 1] - batch.cu_seqlens[b];
    attn += 4.0 * T * T * H;
  }
  const double per_layer = 2.0 * N * H * H * 4 + 2.0 * N * H * I * 2 + attn;
  return per_layer * static_cast<double>(config_.num_hidden_layers);
}

}  // namespace bertc
