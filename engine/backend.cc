// Backend's non-virtual public methods: every shape, dtype and device check happens here, once,
// so the CPU and CUDA backends reject bad calls with the same words. Also Buffer::view.
#include "engine/backend.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "common/error.h"

namespace bertc {
namespace {

const char* device_name(Device d) { return d == Device::kCpu ? "cpu" : "cuda"; }

// "gemm: x has shape [3, 5], expected [3, 4]" and the like; `what` names the op and operand.
void check_tensor(const char* op, const char* what, const Tensor& t, const Shape& shape,
                  DType dtype, Device device) {
  BERTC_CHECK(t.data != nullptr || t.numel() == 0, op, ": ", what, " has no data");
  BERTC_CHECK(t.shape == shape, op, ": ", what, " has shape ", t.shape.str(), ", expected ",
              shape.str());
  BERTC_CHECK(t.dtype == dtype, op, ": ", what, " has dtype ", dtype_name(t.dtype), ", expected ",
              dtype_name(dtype));
  BERTC_CHECK(t.device == device, op, ": ", what, " is on ", device_name(t.device),
              ", expected ", device_name(device));
}

void check_rank(const char* op, const char* what, const Tensor& t, int rank) {
  BERTC_CHECK(t.shape.rank == rank, op, ": ", what, " has shape ", t.shape.str(), ", expected rank ",
              rank);
  for (int i = 0; i < rank; ++i)
    BERTC_CHECK(t.shape[i] >= 0, op, ": ", what, " has a negative dimension in ", t.shape.str());
}

void check_eps(const char* op, float eps) {
  // eps keeps a constant row finite; 0, negative or NaN would divide by zero or take sqrt(<0).
  BERTC_CHECK(eps > 0.0f, op, ": layer_norm_eps must be > 0, got ", eps);
}

}  // namespace

class Backend::OpTimer {
 public:
  // `name` is called only while profiling: op names with shapes cost a string each.
  template <typename Name>
  OpTimer(Backend& backend, Name name) : backend_(backend) {
    if (!backend_.profiling_) return;
    op_ = name();
    backend_.synchronize();
    start_ = std::chrono::steady_clock::now();
  }
  ~OpTimer() {
    if (!backend_.profiling_ || op_.empty()) return;
    backend_.synchronize();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    auto& times = backend_.op_times_;
    auto it = std::find_if(times.begin(), times.end(), [&](const OpTime& t) { return t.op == op_; });
    if (it == times.end()) it = times.insert(times.end(), OpTime{op_, 0.0, 0});
    it->seconds += s;
    ++it->calls;
  }
  OpTimer(const OpTimer&) = delete;
  OpTimer& operator=(const OpTimer&) = delete;

 private:
  Backend& backend_;
  std::string op_;
  std::chrono::steady_clock::time_point start_;
};

Tensor Buffer::view(size_t offset_bytes, DType dtype, Shape shape) const {
  for (int i = 0; i < shape.rank; ++i)
    BERTC_CHECK(shape[i] >= 0, "buffer view: negative dimension in ", shape.str());
  const size_t nbytes = static_cast<size_t>(shape.numel()) * dtype_nbytes(dtype);
  BERTC_CHECK(offset_bytes <= nbytes_ && nbytes <= nbytes_ - offset_bytes, "buffer view: ",
              dtype_name(dtype), " ", shape.str(), " at offset ", offset_bytes, " needs ", nbytes,
              " bytes, but the buffer holds ", nbytes_);
  Tensor t;
  t.data = static_cast<char*>(data_) + offset_bytes;
  t.dtype = dtype;
  t.shape = shape;
  t.device = device_;
  return t;
}

void Backend::upload(const void* host, const Tensor& dst) {
  BERTC_CHECK(host != nullptr || dst.numel() == 0, "upload: host pointer is null");
  check_tensor("upload", "destination", dst, dst.shape, dst.dtype, device());
  do_upload(host, dst);
}

void Backend::download(const Tensor& src, void* host) {
  BERTC_CHECK(host != nullptr || src.numel() == 0, "download: host pointer is null");
  check_tensor("download", "source", src, src.shape, src.dtype, device());
  do_download(src, host);
}

void Backend::check_weight(const char* op, const Tensor& host_weight, const Buffer* arena) const {
  const DType t = host_weight.dtype;
  BERTC_CHECK(t == DType::kF32 || t == DType::kF16 || t == DType::kBF16, op,
              ": weight has dtype ", dtype_name(t), ", expected f32, f16 or bf16");
  check_tensor(op, "weight", host_weight, host_weight.shape, t, Device::kCpu);
  BERTC_CHECK(arena == nullptr || arena->device() == device(), op, ": arena is on ",
              device_name(arena ? arena->device() : device()), ", expected ", device_name(device()));
}

Tensor Backend::prepare_weight(const Tensor& host_weight, Buffer* arena,
                               size_t& arena_offset_bytes) {
  check_weight("prepare_weight", host_weight, arena);
  return do_prepare_weight(host_weight, arena, arena_offset_bytes);
}

Tensor Backend::prepare_gemm_weight(const Tensor& host_weight, Buffer* arena,
                                    size_t& arena_offset_bytes) {
  check_rank("prepare_gemm_weight", "weight", host_weight, 2);
  check_weight("prepare_gemm_weight", host_weight, arena);
  return do_prepare_gemm_weight(host_weight, arena, arena_offset_bytes);
}

void Backend::begin_batch(const PackedBatch& batch) {
  const int64_t n = batch.num_tokens();
  const int64_t b = batch.num_seqs();
  BERTC_CHECK(b >= 1, "begin_batch: the batch has no sequences");
  BERTC_CHECK(static_cast<int64_t>(batch.token_type_ids.size()) == n &&
                  static_cast<int64_t>(batch.position_ids.size()) == n,
              "begin_batch: ", n, " input ids but ", batch.token_type_ids.size(),
              " token type ids and ", batch.position_ids.size(), " position ids");
  BERTC_CHECK(batch.cu_seqlens[0] == 0 && batch.cu_seqlens[b] == n, "begin_batch: cu_seqlens runs ",
              batch.cu_seqlens[0], "..", batch.cu_seqlens[b], ", expected 0..", n);
  int32_t seq_len_max = 0;
  for (int64_t s = 0; s < b; ++s) {
    const int32_t len = batch.cu_seqlens[s + 1] - batch.cu_seqlens[s];
    BERTC_CHECK(len > 0, "begin_batch: sequence ", s, " has ", len,
                " tokens (cu_seqlens must increase strictly)");
    if (len > seq_len_max) seq_len_max = len;
  }
  BERTC_CHECK(batch.seq_len_max == seq_len_max, "begin_batch: seq_len_max is ", batch.seq_len_max,
              ", but the longest sequence has ", seq_len_max, " tokens");
  batch_ = &batch;
  do_begin_batch(batch);
}

void Backend::check_gemm(const char* op, const Tensor& x, const Tensor& w, const Tensor& bias,
                         const Tensor& y) const {
  check_rank(op, "x", x, 2);
  check_rank(op, "w", w, 2);
  const int64_t n = x.shape[0], k = x.shape[1], m = w.shape[0];
  const DType t = compute_dtype();
  check_tensor(op, "x", x, {n, k}, t, device());
  check_tensor(op, "w", w, {m, k}, gemm_weight_dtype(), device());
  if (bias.data) check_tensor(op, "bias", bias, {m}, t, device());
  check_tensor(op, "y", y, {n, m}, t, device());
}

void Backend::gemm(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y) {
  check_gemm("gemm", x, w, bias, y);
  const OpTimer timer(*this, [&] { return str_cat("gemm [", w.shape[0], ", ", x.shape[1], "]"); });
  do_gemm(x, w, bias, y);
}

void Backend::gemm_bias_gelu(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y) {
  check_gemm("gemm_bias_gelu", x, w, bias, y);
  BERTC_CHECK(bias.data != nullptr, "gemm_bias_gelu: bias has no data");
  const OpTimer timer(*this, [&] { return str_cat("gemm_bias_gelu [", w.shape[0], ", ", x.shape[1], "]"); });
  do_gemm_bias_gelu(x, w, bias, y);
}

void Backend::gemm_qkv(const Tensor& x, const std::array<Tensor, 3>& w,
                       const std::array<Tensor, 3>& bias, const std::array<Tensor, 3>& y) {
  for (int i = 0; i < 3; ++i) {
    check_gemm("gemm_qkv", x, w[i], bias[i], y[i]);
    BERTC_CHECK(bias[i].data != nullptr, "gemm_qkv: bias ", i, " has no data");
  }
  const OpTimer timer(*this, [&] { return str_cat("gemm_qkv 3x[", w[0].shape[0], ", ", x.shape[1], "]"); });
  do_gemm_qkv(x, w, bias, y);
}

void Backend::run_ops(uint64_t tag, const std::function<void()>& ops) {
  BERTC_CHECK(batch_ != nullptr, "run_ops: no batch (call begin_batch first)");
  if (profiling_) return ops();  // every op synchronizes to time itself: nothing to record
  do_run_ops(tag, ops);
}

void Backend::add_bias_gelu(const Tensor& x, const Tensor& bias) {
  check_rank("add_bias_gelu", "x", x, 2);
  const DType t = compute_dtype();
  check_tensor("add_bias_gelu", "x", x, x.shape, t, device());
  check_tensor("add_bias_gelu", "bias", bias, {x.shape[1]}, t, device());
  const OpTimer timer(*this, [] { return std::string("add_bias_gelu"); });
  do_add_bias_gelu(x, bias);
}

void Backend::add_bias_residual_layer_norm(const Tensor& x, const Tensor& bias,
                                           const Tensor& residual, const Tensor& gamma,
                                           const Tensor& beta, float eps, const Tensor& y) {
  const char* op = "add_bias_residual_layer_norm";
  check_rank(op, "x", x, 2);
  const int64_t n = x.shape[0], h = x.shape[1];
  const DType t = compute_dtype();
  check_tensor(op, "x", x, {n, h}, t, device());
  check_tensor(op, "bias", bias, {h}, t, device());
  check_tensor(op, "residual", residual, {n, h}, t, device());
  check_tensor(op, "gamma", gamma, {h}, t, device());
  check_tensor(op, "beta", beta, {h}, t, device());
  check_tensor(op, "y", y, {n, h}, t, device());
  BERTC_CHECK(y.data != x.data || n * h == 0, op, ": y must not alias x (it may alias residual)");
  check_eps(op, eps);
  const OpTimer timer(*this, [&] { return std::string(op); });
  do_add_bias_residual_layer_norm(x, bias, residual, gamma, beta, eps, y);
}

void Backend::embed(const Tensor& word, const Tensor& position, const Tensor& token_type,
                    const Tensor& gamma, const Tensor& beta, float eps, const Tensor& out) {
  const char* op = "embed";
  BERTC_CHECK(batch_ != nullptr, op, ": no batch (call begin_batch first)");
  check_rank(op, "word embeddings", word, 2);
  check_rank(op, "position embeddings", position, 2);
  check_rank(op, "token type embeddings", token_type, 2);
  const int64_t h = word.shape[1], n = batch_->num_tokens();
  const DType t = compute_dtype();
  check_tensor(op, "word embeddings", word, word.shape, t, device());
  check_tensor(op, "position embeddings", position, {position.shape[0], h}, t, device());
  check_tensor(op, "token type embeddings", token_type, {token_type.shape[0], h}, t, device());
  check_tensor(op, "gamma", gamma, {h}, t, device());
  check_tensor(op, "beta", beta, {h}, t, device());
  check_tensor(op, "out", out, {n, h}, t, device());
  check_eps(op, eps);
  // Kernels gather without bounds checks, so an out-of-range id must be caught here.
  for (int64_t i = 0; i < n; ++i) {
    const int32_t id = batch_->input_ids[i], type = batch_->token_type_ids[i],
                  pos = batch_->position_ids[i];
    BERTC_CHECK(id >= 0 && id < word.shape[0], op, ": token id ", id, " at position ", i,
                " is outside the vocabulary [0, ", word.shape[0], ")");
    BERTC_CHECK(type >= 0 && type < token_type.shape[0], op, ": token type id ", type,
                " at position ", i, " is outside [0, ", token_type.shape[0], ")");
    BERTC_CHECK(pos >= 0 && pos < position.shape[0], op, ": position id ", pos, " at position ", i,
                " is outside [0, ", position.shape[0],
                ") (the sequence is longer than the model's max_position_embeddings)");
  }
  const OpTimer timer(*this, [&] { return std::string(op); });
  do_embed(word, position, token_type, gamma, beta, eps, out);
}

void Backend::attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t num_heads,
                        const Tensor& out) {
  const char* op = "attention";
  BERTC_CHECK(batch_ != nullptr, op, ": no batch (call begin_batch first)");
  check_rank(op, "q", q, 2);
  const int64_t n = batch_->num_tokens(), h = q.shape[1];
  BERTC_CHECK(num_heads > 0 && h % num_heads == 0, op, ": hidden size ", h,
              " is not a multiple of ", num_heads, " heads");
  const DType t = compute_dtype();
  check_tensor(op, "q", q, {n, h}, t, device());
  check_tensor(op, "k", k, {n, h}, t, device());
  check_tensor(op, "v", v, {n, h}, t, device());
  check_tensor(op, "out", out, {n, h}, t, device());
  const OpTimer timer(*this, [&] { return std::string(op); });
  do_attention(q, k, v, num_heads, out);
}

void Backend::pool(const Tensor& hidden, PoolMode mode, const Tensor& out) {
  const char* op = "pool";
  BERTC_CHECK(batch_ != nullptr, op, ": no batch (call begin_batch first)");
  check_rank(op, "hidden", hidden, 2);
  const int64_t n = batch_->num_tokens(), b = batch_->num_seqs(), h = hidden.shape[1];
  const DType t = compute_dtype();
  check_tensor(op, "hidden", hidden, {n, h}, t, device());
  check_tensor(op, "out", out, {b, h}, t, device());
  const OpTimer timer(*this, [&] { return std::string(op); });
  do_pool(hidden, mode, out);
}

void Backend::tanh(const Tensor& x) {
  check_tensor("tanh", "x", x, x.shape, compute_dtype(), device());
  const OpTimer timer(*this, [] { return std::string("tanh"); });
  do_tanh(x);
}

void Backend::l2_normalize(const Tensor& x) {
  check_rank("l2_normalize", "x", x, 2);
  check_tensor("l2_normalize", "x", x, x.shape, compute_dtype(), device());
  const OpTimer timer(*this, [] { return std::string("l2_normalize"); });
  do_l2_normalize(x);
}

}  // namespace bertc
