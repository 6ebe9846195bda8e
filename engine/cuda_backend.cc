// CudaBackend: Backend on one CUDA device. Weights are converted to the run precision once, into
// the arena the caller allocates; the batch ids live in a workspace sized at construction; the
// forward pass only launches kernels and cuBLAS on the backend's own stream (no allocation, no
// synchronization until download). Checked in tests/engine/cuda_backend_test.cc.
#include "engine/cuda_backend.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cuda/check.h"
#include "kernels/cuda/kernels.h"

namespace bertc {
namespace {

constexpr size_t kAlignBytes = 64;
// cuBLAS's recommended workspace on Hopper; given to it up front so it never allocates lazily.
constexpr size_t kCublasWorkspaceBytes = size_t{32} << 20;
// Workspace capacity when BackendOptions leave max_tokens / max_seqs at 0.
constexpr int64_t kDefaultMaxTokens = 16384;
constexpr int64_t kDefaultMaxSeqs = 1024;

size_t align_up(size_t n) { return (n + kAlignBytes - 1) / kAlignBytes * kAlignBytes; }

void cuda_free(void* p) { cudaFree(p); }  // from a destructor: nothing useful to do on failure

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

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(const BackendOptions& options)
      : dtype_(options.dtype), allow_tf32_(options.allow_tf32) {
    BERTC_CHECK(dtype_ == DType::kF32 || dtype_ == DType::kF16 || dtype_ == DType::kBF16,
                "CUDA backend: run precision must be f32, f16 or bf16, not ",
                dtype_name(dtype_));
    CUDA_CHECK(cudaSetDevice(0));
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    CUBLAS_CHECK(cublasCreate(&cublas_));
    // The stream and workspace are bound once: cublasSetStream would reset the workspace.
    CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
    CUBLAS_CHECK(cublasSetMathMode(cublas_, CUBLAS_DEFAULT_MATH));
    cublas_workspace_ = allocate(kCublasWorkspaceBytes);
    CUBLAS_CHECK(cublasSetWorkspace(cublas_, cublas_workspace_.data(), kCublasWorkspaceBytes));
    reserve_batch(options.max_tokens > 0 ? options.max_tokens : kDefaultMaxTokens,
                  options.max_seqs > 0 ? options.max_seqs : kDefaultMaxSeqs);
  }

  ~CudaBackend() override {
    if (stream_) cudaStreamSynchronize(stream_);
    if (cublas_) cublasDestroy(cublas_);
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
  // Grows the batch workspace; only begin_batch calls it after construction, and only for a
  // batch larger than any before, never inside the forward pass.
  void reserve_batch(int64_t tokens, int64_t seqs) {
    if (tokens <= token_capacity_ && seqs <= seq_capacity_) return;
    tokens = std::max(tokens, token_capacity_);
    seqs = std::max(seqs, seq_capacity_);
    if (batch_ints_.data()) synchronize();  // the previous batch may still read the old one
    // ids, token types, positions [tokens] each, then cu_seqlens [seqs + 1].
    batch_ints_ = allocate(static_cast<size_t>(3 * tokens + seqs + 1) * sizeof(int32_t));
    ids_ = static_cast<int32_t*>(batch_ints_.data());
    type_ids_ = ids_ + tokens;
    position_ids_ = type_ids_ + tokens;
    cu_seqlens_ = position_ids_ + tokens;
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
      if (host_weight.dtype == dtype_) {
        if (nbytes) CUDA_CHECK(cudaMemcpy(out.data, host_weight.data, nbytes, cudaMemcpyHostToDevice));
      } else if (nbytes) {
        const std::vector<char> converted = convert_on_host(host_weight, dtype_);
        CUDA_CHECK(cudaMemcpy(out.data, converted.data(), nbytes, cudaMemcpyHostToDevice));
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
    // From pageable memory these copies return once the data is staged, so `batch` may change
    // afterwards; they are ordered before every later kernel on stream_.
    auto copy = [&](int32_t* dst, const std::vector<int32_t>& src) {
      if (!src.empty())
        CUDA_CHECK(cudaMemcpyAsync(dst, src.data(), src.size() * sizeof(int32_t),
                                   cudaMemcpyHostToDevice, stream_));
    };
    copy(ids_, batch.input_ids);
    copy(type_ids_, batch.token_type_ids);
    copy(position_ids_, batch.position_ids);
    copy(cu_seqlens_, batch.cu_seqlens);
  }

  void do_gemm(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y) override {
    dispatch(dtype_, [&]<typename T>() {
      cuda::gemm<T>(x.as<const T>(), w.as<const T>(), bias.as<const T>(), y.as<T>(), x.shape[0],
                    w.shape[0], x.shape[1], cublas_, allow_tf32_, stream_);
    });
  }

  // cuBLAS's plain GEMM, then the bias + GELU kernel (a cuBLASLt epilogue is not used yet).
  void do_gemm_bias_gelu(const Tensor& x, const Tensor& w, const Tensor& bias,
                         const Tensor& y) override {
    do_gemm(x, w, Tensor{}, y);
    do_add_bias_gelu(y, bias);
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

  void do_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t num_heads,
                    const Tensor& out) override {
    dispatch(dtype_, [&]<typename T>() {
      cuda::attention<T>(q.as<const T>(), k.as<const T>(), v.as<const T>(), out.as<T>(),
                         cu_seqlens_, batch_->num_seqs(), q.shape[0], batch_->seq_len_max,
                         num_heads, q.shape[1] / num_heads, stream_);
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

  DType dtype_;
  bool allow_tf32_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  Buffer cublas_workspace_;
  Buffer batch_ints_;  // ids, type ids, positions [token_capacity_] each; cu_seqlens [seqs + 1]
  int64_t token_capacity_ = 0;
  int64_t seq_capacity_ = 0;
  int32_t* ids_ = nullptr;
  int32_t* type_ids_ = nullptr;
  int32_t* position_ids_ = nullptr;
  int32_t* cu_seqlens_ = nullptr;
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
