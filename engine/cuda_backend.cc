// CudaBackend: Backend on one CUDA device. Weights are converted to the run precision once, into
// the arena the caller allocates; the batch ids live in a workspace sized at construction, copied
// from pinned host memory; the forward pass only launches kernels, cuBLAS and cuBLASLt on the
// backend's own stream (no allocation, no synchronization until download), and a forward pass of
// batch lengths seen before is replayed as a CUDA graph. Checked in
// tests/engine/cuda_backend_test.cc and tests/engine/cuda_model_test.cc.
#include "engine/cuda_backend.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string_view>
#include <vector>

#include "kernels/cuda/check.h"
#include "kernels/cuda/kernels.h"

namespace bertc {
namespace {

constexpr size_t kAlignBytes = 64;
// cuBLAS's recommended workspace on Hopper; given to it (and cuBLASLt) up front so neither ever
// allocates lazily, which a CUDA graph capture would also forbid.
constexpr size_t kCublasWorkspaceBytes = size_t{32} << 20;
// Scores and probabilities of the gemm attention path: 32 x 128 tokens of BERT-base take 38 MiB,
// 128 x 128 150 MiB in one chunk; longer batches run in several chunks.
constexpr size_t kAttentionScratchBytes = size_t{256} << 20;
// Workspace capacity when BackendOptions leave max_tokens / max_seqs at 0.
constexpr int64_t kDefaultMaxTokens = 16384;
constexpr int64_t kDefaultMaxSeqs = 1024;
// CUDA graphs kept (least recently used dropped first), and batch shapes remembered as seen once.
constexpr size_t kMaxGraphs = 16;
constexpr size_t kMaxSeenOnce = 64;

size_t align_up(size_t n) { return (n + kAlignBytes - 1) / kAlignBytes * kAlignBytes; }

void cuda_free(void* p) { cudaFree(p); }  // from a destructor: nothing useful to do on failure

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// Calls f.template operator()<T>() with T the CUDA element type of `dtype`.
template <typename F>
void dispatch(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kF32: f.template operator()<float>(); return;
    case DType::kF16: f.template operator()<__half>(); return;
    case DType::kBF16: f.template operator()<__nv_bfloat16>(); return;
    default: BERTC_FAIL("CUDA backend: unsupported run precision ", dtype_name(dtype));
  }
}

// Host-side conversion of a weight to the run precision, rounding to nearest even like the
// device's __float2half_rn / __float2bfloat16_rn.
std::vector<char> convert_on_host(const Tensor& src, DType to) {
  const int64_t n = src.numel();
  std::vector<char> out(static_cast<size_t>(n) * dtype_nbytes(to));
  auto load = [&](int64_t i) -> float {
    switch (src.dtype) {
      case DType::kF32: return src.as<const float>()[i];
      case DType::kF16: return f16_to_f32(src.as<const uint16_t>()[i]);
      case DType::kBF16: return bf16_to_f32(src.as<const uint16_t>()[i]);
      default: BERTC_FAIL("CUDA backend: cannot convert a ", dtype_name(src.dtype), " weight");
    }
  };
  for (int64_t i = 0; i < n; ++i) {
    const float v = load(i);
    if (to == DType::kF32) {
      std::memcpy(out.data() + i * 4, &v, 4);
    } else {
      const uint16_t h = to == DType::kF16 ? f32_to_f16(v) : f32_to_bf16(v);
      std::memcpy(out.data() + i * 2, &h, 2);
    }
  }
  return out;
}

// BackendOptions::cuda_attention, kAuto resolved from $BERTC_CUDA_ATTENTION or the precision.
CudaAttention resolve_attention(CudaAttention chosen, DType dtype) {
  if (chosen != CudaAttention::kAuto) return chosen;
  if (const char* env = std::getenv("BERTC_CUDA_ATTENTION"); env && *env) {
    const std::string_view v = env;
    if (v == "simt") return CudaAttention::kSimt;
    if (v == "gemm") return CudaAttention::kGemm;
    if (v == "flash") return CudaAttention::kFlash;
    BERTC_FAIL("BERTC_CUDA_ATTENTION: unknown value '", v, "' (expected simt, gemm or flash)");
  }
  return dtype == DType::kF32 ? CudaAttention::kSimt : CudaAttention::kGemm;
}

bool graphs_allowed(bool option) {
  if (!option || cuda::sync_after_launch()) return false;  // a capture may not synchronize
  const char* env = std::getenv("BERTC_CUDA_GRAPHS");
  return !(env && std::strcmp(env, "0") == 0);
}

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(const BackendOptions& options)
      : dtype_(options.dtype), allow_tf32_(options.allow_tf32),
        attention_(resolve_attention(options.cuda_attention, options.dtype)),
        graphs_(graphs_allowed(options.cuda_graphs)) {
    BERTC_CHECK(dtype_ == DType::kF32 || dtype_ == DType::kF16 || dtype_ == DType::kBF16,
                "CUDA backend: run precision must be f32, f16 or bf16, not ",
                dtype_name(dtype_));
    CUDA_CHECK(cudaSetDevice(0));
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    CUDA_CHECK(cudaEventCreateWithFlags(&staging_done_, cudaEventDisableTiming));
    CUBLAS_CHECK(cublasCreate(&cublas_));
    // The stream and workspace are bound once: cublasSetStream would reset the workspace.
    CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
    CUBLAS_CHECK(cublasSetMathMode(cublas_, CUBLAS_DEFAULT_MATH));
    cublas_workspace_ = allocate(kCublasWorkspaceBytes);
    CUBLAS_CHECK(cublasSetWorkspace(cublas_, cublas_workspace_.data(), kCublasWorkspaceBytes));
    // cuBLAS and cuBLASLt share the workspace: both run on stream_, one call after another.
    gemm_lt_ = std::make_unique<cuda::GemmLt>(cublas_workspace_.data(), kCublasWorkspaceBytes);
    if (attention_ != CudaAttention::kSimt) attention_scratch_ = allocate(kAttentionScratchBytes);
    reserve_batch(options.max_tokens > 0 ? options.max_tokens : kDefaultMaxTokens,
                  options.max_seqs > 0 ? options.max_seqs : kDefaultMaxSeqs);
  }

  ~CudaBackend() override {
    if (stream_) cudaStreamSynchronize(stream_);
    clear_graphs();
    if (staging_) cudaFreeHost(staging_);
    gemm_lt_.reset();
    if (cublas_) cublasDestroy(cublas_);
    if (staging_done_) cudaEventDestroy(staging_done_);
    if (stream_) cudaStreamDestroy(stream_);
  }

  Device device() const override { return Device::kCuda; }
  const char* name() const override { return "cuda"; }
  DType compute_dtype() const override { return dtype_; }
  DType gemm_weight_dtype() const override { return dtype_; }
  void set_threads(int) override {}
  void synchronize() override { CUDA_CHECK(cudaStreamSynchronize(stream_)); }

  Buffer allocate(size_t nbytes) override {
    void* p = nullptr;
    if (nbytes > 0) {
      const cudaError_t status = cudaMalloc(&p, nbytes);
      BERTC_CHECK(status == cudaSuccess, "CUDA backend: cannot allocate ", nbytes,
                  " bytes of device memory: ", cudaGetErrorString(status));
    }
    return Buffer(p, nbytes, Device::kCuda, cuda_free);
  }

 private:
  // The batch workspace, on the device and as pinned host staging of the same layout: ids, token
  // types, positions [tokens] each, cu_seqlens [seqs + 1], then the sequences ordered by length
  // [seqs] (the gemm attention path's chunks). Grows only in begin_batch, between batches.
  size_t batch_ints(int64_t tokens, int64_t seqs) const {
    return static_cast<size_t>(3 * tokens + 2 * seqs + 1);
  }

  void reserve_batch(int64_t tokens, int64_t seqs) {
    if (tokens <= token_capacity_ && seqs <= seq_capacity_) return;
    tokens = std::max(tokens, token_capacity_);
    seqs = std::max(seqs, seq_capacity_);
    if (batch_ints_.data()) synchronize();  // the previous batch may still read the old one
    clear_graphs();  // they read the old buffers
    batch_ints_ = allocate(batch_ints(tokens, seqs) * sizeof(int32_t));
    if (staging_) CUDA_CHECK(cudaFreeHost(staging_));
    staging_ = nullptr;
    CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&staging_),
                              batch_ints(tokens, seqs) * sizeof(int32_t)));
    ids_ = static_cast<int32_t*>(batch_ints_.data());
    type_ids_ = ids_ + tokens;
    position_ids_ = type_ids_ + tokens;
    cu_seqlens_ = position_ids_ + tokens;
    order_ = cu_seqlens_ + seqs + 1;
    token_capacity_ = tokens;
    seq_capacity_ = seqs;
  }

  void do_upload(const void* host, const Tensor& dst) override {
    if (dst.nbytes() == 0) return;  // an empty tensor may have no device pointer at all
    CUDA_CHECK(cudaMemcpyAsync(dst.data, host, dst.nbytes(), cudaMemcpyHostToDevice, stream_));
    synchronize();  // the caller may free or reuse `host` as soon as we return
  }

  void do_download(const Tensor& src, void* host) override {
    if (src.nbytes() == 0) return;
    CUDA_CHECK(cudaMemcpyAsync(host, src.data, src.nbytes(), cudaMemcpyDeviceToHost, stream_));
    synchronize();
  }

  Tensor do_prepare_weight(const Tensor& host_weight, Buffer* arena,
                           size_t& arena_offset_bytes) override {
    arena_offset_bytes = align_up(arena_offset_bytes);
    Tensor out{nullptr, dtype_, host_weight.shape, Device::kCuda};
    const size_t nbytes = out.nbytes();
    if (arena) {
      BERTC_CHECK(arena_offset_bytes + nbytes <= arena->nbytes(),
                  "CUDA backend: weight arena of ", arena->nbytes(), " bytes is too small for ",
                  nbytes, " more at offset ", arena_offset_bytes);
      out.data = static_cast<char*>(arena->data()) + arena_offset_bytes;
      // On stream_, as every kernel that reads the weight: a plain cudaMemcpy would go through
      // the legacy default stream, which a non-blocking stream does not wait for.
      if (host_weight.dtype == dtype_) {
        do_upload(host_weight.data, out);
      } else if (nbytes) {
        const std::vector<char> converted = convert_on_host(host_weight, dtype_);
        do_upload(converted.data(), out);  // synchronizes: `converted` may go
      }
    }
    arena_offset_bytes += nbytes;
    return out;
  }

  // cuBLAS reads w in its [M, K] layout as prepare_weight leaves it.
  Tensor do_prepare_gemm_weight(const Tensor& host_weight, Buffer* arena,
                                size_t& arena_offset_bytes) override {
    return do_prepare_weight(host_weight, arena, arena_offset_bytes);
  }

  void do_begin_batch(const PackedBatch& batch) override {
    const int64_t n = batch.num_tokens();
    const int64_t b = batch.num_seqs();
    reserve_batch(n, b);
    // The sequences by length (stable): the gemm attention path chunks them in this order.
    order_host_.resize(static_cast<size_t>(b));
    std::iota(order_host_.begin(), order_host_.end(), 0);
    auto len = [&](int32_t s) { return batch.cu_seqlens[s + 1] - batch.cu_seqlens[s]; };
    std::stable_sort(order_host_.begin(), order_host_.end(),
                     [&](int32_t a, int32_t c) { return len(a) < len(c); });
    sorted_lengths_.resize(order_host_.size());
    for (size_t i = 0; i < order_host_.size(); ++i) sorted_lengths_[i] = len(order_host_[i]);
    // The staging buffer is pinned, so the copy below is truly asynchronous: wait until the
    // previous batch's copy has read it before refilling it.
    CUDA_CHECK(cudaEventSynchronize(staging_done_));
    int32_t* s = staging_;
    auto put = [&](const std::vector<int32_t>& v) {
      if (!v.empty()) std::memcpy(s, v.data(), v.size() * sizeof(int32_t));
      s += v.size();
    };
    put(batch.input_ids);
    put(batch.token_type_ids);
    put(batch.position_ids);
    put(batch.cu_seqlens);
    put(order_host_);
    // Each piece to its place in the capacity-sized device layout (fixed addresses: a CUDA graph
    // of the forward pass reads them there).
    auto copy = [&](int32_t* dst, const int32_t* src, size_t count) {
      if (count)
        CUDA_CHECK(cudaMemcpyAsync(dst, src, count * sizeof(int32_t), cudaMemcpyHostToDevice,
                                   stream_));
    };
    const int32_t* h = staging_;
    copy(ids_, h, static_cast<size_t>(n));
    copy(type_ids_, h + n, static_cast<size_t>(n));
    copy(position_ids_, h + 2 * n, static_cast<size_t>(n));
    copy(cu_seqlens_, h + 3 * n, static_cast<size_t>(b + 1));
    copy(order_, h + 3 * n + b + 1, static_cast<size_t>(b));
    CUDA_CHECK(cudaEventRecord(staging_done_, stream_));
  }

  // ---- replay: CUDA graphs per (tag, batch lengths), recorded the second time a key is seen
  // (a key seen once may never come back, and instantiating a graph costs more than one pass).
  void do_run_ops(uint64_t tag, const std::function<void()>& ops) override {
    if (!graphs_) return ops();
    const std::vector<int32_t>& lengths = batch_->cu_seqlens;
    ++clock_;
    for (Graph& g : graphs_list_) {
      if (g.tag == tag && g.cu_seqlens == lengths) {
        g.last_used = clock_;
        CUDA_CHECK(cudaGraphLaunch(g.exec, stream_));
        return;
      }
    }
    auto seen = std::find_if(seen_once_.begin(), seen_once_.end(), [&](const auto& k) {
      return k.first == tag && k.second == lengths;
    });
    if (seen == seen_once_.end()) {
      if (seen_once_.size() == kMaxSeenOnce) seen_once_.erase(seen_once_.begin());
      seen_once_.emplace_back(tag, lengths);
      return ops();
    }
    seen_once_.erase(seen);
    CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    cudaGraph_t graph = nullptr;
    try {
      ops();
    } catch (...) {
      cudaStreamEndCapture(stream_, &graph);  // leave capture mode; the partial graph goes
      if (graph) cudaGraphDestroy(graph);
      throw;
    }
    CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
    cudaGraphExec_t exec = nullptr;
    const cudaError_t status = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    CUDA_CHECK(status);
    if (graphs_list_.size() == kMaxGraphs) {
      auto lru = std::min_element(graphs_list_.begin(), graphs_list_.end(),
                                  [](const Graph& a, const Graph& c) { return a.last_used < c.last_used; });
      cudaGraphExecDestroy(lru->exec);
      graphs_list_.erase(lru);
    }
    graphs_list_.push_back(Graph{tag, lengths, exec, clock_});
    CUDA_CHECK(cudaGraphLaunch(exec, stream_));
  }

  void clear_graphs() {
    for (Graph& g : graphs_list_) cudaGraphExecDestroy(g.exec);
    graphs_list_.clear();
    seen_once_.clear();
  }

  // ---- GEMMs: cuBLASLt, or cublasGemmEx where cuBLASLt has no algorithm for the case.
  template <typename T>
  void gemm_any(const T* x, const T* w, const T* bias, T* y, int64_t n, int64_t m, int64_t k) {
    if (!gemm_lt_->run<T>(x, w, bias, y, n, m, k, 1, 0, 0, 0, allow_tf32_, stream_))
      cuda::gemm<T>(x, w, bias, y, n, m, k, cublas_, allow_tf32_, stream_);
  }

  void do_gemm(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y) override {
    dispatch(dtype_, [&]<typename T>() {
      gemm_any<T>(x.as<const T>(), w.as<const T>(), bias.as<const T>(), y.as<T>(), x.shape[0],
                  w.shape[0], x.shape[1]);
    });
  }

  // One batched cuBLASLt launch when each of w, bias, y is three tensors at one stride (as
  // BertModel lays them out), else three GEMMs.
  void do_gemm_qkv(const Tensor& x, const std::array<Tensor, 3>& w,
                   const std::array<Tensor, 3>& bias, const std::array<Tensor, 3>& y) override {
    const auto esz = static_cast<int64_t>(dtype_nbytes(dtype_));
    auto stride = [&](const std::array<Tensor, 3>& t, int64_t min_elems, int64_t& out) {
      const int64_t d1 = static_cast<const char*>(t[1].data) - static_cast<const char*>(t[0].data);
      const int64_t d2 = static_cast<const char*>(t[2].data) - static_cast<const char*>(t[1].data);
      out = d1 / esz;
      return d1 == d2 && d1 % esz == 0 && out >= min_elems;
    };
    const int64_t n = x.shape[0], m = w[0].shape[0], k = x.shape[1];
    int64_t ws = 0, bs = 0, ys = 0;
    const bool strided = stride(w, m * k, ws) && stride(bias, m, bs) && stride(y, n * m, ys);
    dispatch(dtype_, [&]<typename T>() {
      if (strided && gemm_lt_->run<T>(x.as<const T>(), w[0].as<const T>(), bias[0].as<const T>(),
                                      y[0].as<T>(), n, m, k, 3, ws, bs, ys, allow_tf32_, stream_))
        return;
      for (int i = 0; i < 3; ++i)
        gemm_any<T>(x.as<const T>(), w[i].as<const T>(), bias[i].as<const T>(), y[i].as<T>(), n,
                    m, k);
    });
  }

  // The GEMM with the bias in its epilogue, then GELU in place (cuBLASLt's GELU epilogue is the
  // tanh approximation, not BERT's erf GELU).
  void do_gemm_bias_gelu(const Tensor& x, const Tensor& w, const Tensor& bias,
                         const Tensor& y) override {
    dispatch(dtype_, [&]<typename T>() {
      const int64_t n = x.shape[0], m = w.shape[0], k = x.shape[1];
      if (gemm_lt_->run<T>(x.as<const T>(), w.as<const T>(), bias.as<const T>(), y.as<T>(), n, m,
                           k, 1, 0, 0, 0, allow_tf32_, stream_)) {
        cuda::bias_gelu<T>(y.as<T>(), nullptr, n, m, stream_);
      } else {
        cuda::gemm<T>(x.as<const T>(), w.as<const T>(), nullptr, y.as<T>(), n, m, k, cublas_,
                      allow_tf32_, stream_);
        cuda::bias_gelu<T>(y.as<T>(), bias.as<const T>(), n, m, stream_);
      }
    });
  }

  void do_add_bias_gelu(const Tensor& x, const Tensor& bias) override {
    dispatch(dtype_, [&]<typename T>() {
      cuda::bias_gelu<T>(x.as<T>(), bias.as<const T>(), x.shape[0], x.shape[1], stream_);
    });
  }

  void do_add_bias_residual_layer_norm(const Tensor& x, const Tensor& bias,
                                       const Tensor& residual, const Tensor& gamma,
                                       const Tensor& beta, float eps, const Tensor& y) override {
    dispatch(dtype_, [&]<typename T>() {
      cuda::bias_residual_layer_norm<T>(x.as<const T>(), bias.as<const T>(),
                                        residual.as<const T>(), gamma.as<const T>(),
                                        beta.as<const T>(), eps, y.as<T>(), x.shape[0],
                                        x.shape[1], stream_);
    });
  }

  void do_embed(const Tensor& word, const Tensor& position, const Tensor& token_type,
                const Tensor& gamma, const Tensor& beta, float eps, const Tensor& out) override {
    dispatch(dtype_, [&]<typename T>() {
      cuda::embedding<T>(ids_, type_ids_, position_ids_, batch_->num_tokens(), word.as<const T>(),
                         position.as<const T>(), token_type.as<const T>(), gamma.as<const T>(),
                         beta.as<const T>(), eps, word.shape[1], out.as<T>(), stream_);
    });
  }

  // The chosen path where it takes the shape, else the next one down: flash -> gemm -> simt.
  void do_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t num_heads,
                    const Tensor& out) override {
    const int64_t n = q.shape[0], head_dim = q.shape[1] / num_heads, b = batch_->num_seqs();
    const size_t esz = dtype_nbytes(dtype_);
    const bool aligned = aligned16(q.data) && aligned16(k.data) && aligned16(v.data) &&
                         aligned16(out.data);
    CudaAttention path = attention_;
    if (path == CudaAttention::kFlash && !(aligned && cuda::attention_flash_supported(head_dim, esz)))
      path = CudaAttention::kGemm;
    if (path == CudaAttention::kGemm &&
        !(aligned && attention_scratch_.data() &&
          cuda::attention_gemm_plan(sorted_lengths_.data(), b, n, num_heads, head_dim, esz,
                                    attention_scratch_.nbytes(), attention_chunks_)))
      path = CudaAttention::kSimt;
    dispatch(dtype_, [&]<typename T>() {
      const T* qp = q.as<const T>();
      const T* kp = k.as<const T>();
      const T* vp = v.as<const T>();
      switch (path) {
        case CudaAttention::kFlash:
          return cuda::attention_flash<T>(qp, kp, vp, out.as<T>(), cu_seqlens_, b,
                                          batch_->seq_len_max, num_heads, head_dim, stream_);
        case CudaAttention::kGemm:
          return cuda::attention_gemm<T>(qp, kp, vp, out.as<T>(), cu_seqlens_, order_, n,
                                         num_heads, head_dim, attention_chunks_,
                                         attention_scratch_.data(), cublas_, allow_tf32_, stream_);
        default:
          return cuda::attention_simt<T>(qp, kp, vp, out.as<T>(), cu_seqlens_, b, n,
                                         batch_->seq_len_max, num_heads, head_dim, stream_);
      }
    });
  }

  void do_pool(const Tensor& hidden, PoolMode mode, const Tensor& out) override {
    dispatch(dtype_, [&]<typename T>() {
      cuda::pool<T>(hidden.as<const T>(), cu_seqlens_, batch_->num_seqs(), hidden.shape[1], mode,
                    out.as<T>(), stream_);
    });
  }

  void do_tanh(const Tensor& x) override {
    dispatch(dtype_, [&]<typename T>() { cuda::tanh<T>(x.as<T>(), x.numel(), stream_); });
  }

  void do_l2_normalize(const Tensor& x) override {
    dispatch(dtype_, [&]<typename T>() {
      cuda::l2_normalize<T>(x.as<T>(), x.shape[0], x.shape[1], stream_);
    });
  }

  struct Graph {
    uint64_t tag;
    std::vector<int32_t> cu_seqlens;
    cudaGraphExec_t exec;
    uint64_t last_used;
  };

  DType dtype_;
  bool allow_tf32_;
  CudaAttention attention_;  // never kAuto
  bool graphs_;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t staging_done_ = nullptr;  // the last begin_batch copy has read staging_
  cublasHandle_t cublas_ = nullptr;
  Buffer cublas_workspace_;
  std::unique_ptr<cuda::GemmLt> gemm_lt_;
  Buffer attention_scratch_;  // the gemm attention path's S, P and padded O (not for simt)
  std::vector<cuda::AttentionGemmChunk> attention_chunks_;
  Buffer batch_ints_;  // see batch_ints()
  int32_t* staging_ = nullptr;  // pinned host memory of batch_ints_'s size
  int64_t token_capacity_ = 0;
  int64_t seq_capacity_ = 0;
  int32_t* ids_ = nullptr;
  int32_t* type_ids_ = nullptr;
  int32_t* position_ids_ = nullptr;
  int32_t* cu_seqlens_ = nullptr;
  int32_t* order_ = nullptr;
  std::vector<int32_t> order_host_;      // the batch's sequences by length
  std::vector<int32_t> sorted_lengths_;  // their lengths, in that order
  std::vector<Graph> graphs_list_;
  std::vector<std::pair<uint64_t, std::vector<int32_t>>> seen_once_;
  uint64_t clock_ = 0;  // run_ops calls, for least-recently-used eviction
};

}  // namespace

int cuda_device_count(std::string* why) {
  int count = 0;
  // Without a driver this returns cudaErrorInsufficientDriver / cudaErrorNoDevice; it does not
  // abort. The error is not sticky, but clear it so a later cudaGetLastError() stays clean.
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    if (why) *why = cudaGetErrorString(status);
    return 0;
  }
  if (count == 0 && why) *why = "the driver reports no devices";
  return count;
}

std::unique_ptr<Backend> make_cuda_backend(const BackendOptions& options) {
  std::string why;
  BERTC_CHECK(cuda_device_count(&why) > 0, "no CUDA device found (", why,
              "); use --device cpu or --device auto");
  return std::make_unique<CudaBackend>(options);
}

}  // namespace bertc
