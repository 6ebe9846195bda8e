// Backend: THE interface between BertModel (written once) and the CPU / CUDA implementations.
// Public methods are non-virtual: they check shapes, dtypes and devices once, with the same error
// text for every backend, then call the private virtual do_* implementation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/batch.h"
#include "engine/tensor.h"
#include "kernels/cpu/cpu_plan.h"  // cpu::Isa
#include "kernels/pooling.h"       // PoolMode

namespace bertc {

// Owns one allocation on one device; move-only. Created by Backend::allocate.
class Buffer {
 public:
  Buffer() = default;
  Buffer(void* data, size_t nbytes, Device device, void (*release)(void*))
      : data_(data), nbytes_(nbytes), device_(device), release_(release) {}
  Buffer(Buffer&& o) noexcept { *this = std::move(o); }
  Buffer& operator=(Buffer&& o) noexcept {
    if (this != &o) {
      reset();
      data_ = o.data_; nbytes_ = o.nbytes_; device_ = o.device_; release_ = o.release_;
      o.data_ = nullptr; o.nbytes_ = 0;
    }
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { reset(); }

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  // A view of the bytes at [offset_bytes, offset_bytes + shape.numel() * dtype size).
  Tensor view(size_t offset_bytes, DType dtype, Shape shape) const;

 private:
  void reset() {
    if (data_ && release_) release_(data_);
    data_ = nullptr;
  }
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_ = Device::kCpu;
  void (*release_)(void*) = nullptr;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual Device device() const = 0;
  virtual const char* name() const = 0;
  // dtype of activations and (prepared) weights on this backend: f32 on CPU; f32/f16/bf16 on CUDA.
  virtual DType compute_dtype() const = 0;
  // dtype of gemm's w as prepare_gemm_weight returns it: compute_dtype(), except on the CPU at
  // bf16, where the activations stay f32 and the weights are bf16 (packed: kernels/gemm_bf16.h).
  virtual DType gemm_weight_dtype() const = 0;
  virtual void set_threads(int threads) = 0;  // CPU only; ignored by CUDA
  virtual void synchronize() = 0;

  // ---- memory ----
  virtual Buffer allocate(size_t nbytes) = 0;
  // Host -> device/host copy and back; for CPU both are memcpy.
  void upload(const void* host, const Tensor& dst);
  void download(const Tensor& src, void* host);
  // Makes a weight usable by the ops: on CPU an f32 weight is returned as the same view (zero
  // copy into the mmap) and f16/bf16 are widened into `arena`; on CUDA it is converted to
  // compute_dtype() and copied into `arena`. Returns the prepared view.
  // arena_offset_bytes is advanced (64-byte aligned). arena may be null to ask the size only.
  Tensor prepare_weight(const Tensor& host_weight, Buffer* arena, size_t& arena_offset_bytes);
  // The same for a weight [M, K] that is only ever gemm's `w`: the backend may keep it in a
  // layout of its own, readable by its gemm only (the returned view's shape stays [M, K]).
  Tensor prepare_gemm_weight(const Tensor& host_weight, Buffer* arena, size_t& arena_offset_bytes);

  // ---- the batch ----
  // Makes `batch` the current one: ids, positions and cu_seqlens are copied where the backend
  // needs them (into its workspace: no allocation). embed, attention and pool read it.
  void begin_batch(const PackedBatch& batch);

  // ---- ops (activations are compute_dtype(); weights as returned by prepare_weight) ----
  // y[N,M] = x[N,K] · w[M,K]^T (+ bias[M] when bias.data)  — w keeps HF's [out, in] layout.
  void gemm(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y);
  // The Q, K and V projections of one x: y[i] = x · w[i]^T + bias[i] for i = 0, 1, 2, the same
  // values as three gemm calls. A backend may run them as one launch where the three weights,
  // biases and outputs each lie at one stride (BertModel prepares and allocates them so).
  void gemm_qkv(const Tensor& x, const std::array<Tensor, 3>& w, const std::array<Tensor, 3>& bias,
                const std::array<Tensor, 3>& y);
  // x[N,I] = gelu_erf(x + bias[I])
  void add_bias_gelu(const Tensor& x, const Tensor& bias);
  // y[N,M] = gelu_erf(x[N,K] · w[M,K]^T + bias[M]): the FFN's first layer; the same values as gemm
  // then add_bias_gelu, with the activation applied while y is in cache where the backend can.
  void gemm_bias_gelu(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y);
  // y[N,H] = LayerNorm(x + bias + residual) · gamma + beta; y may alias residual.
  void add_bias_residual_layer_norm(const Tensor& x, const Tensor& bias, const Tensor& residual,
                                    const Tensor& gamma, const Tensor& beta, float eps,
                                    const Tensor& y);
  // out[N,H] = LayerNorm(word[ids] + position[pos] + token_type[types]) over the current batch.
  void embed(const Tensor& word, const Tensor& position, const Tensor& token_type,
             const Tensor& gamma, const Tensor& beta, float eps, const Tensor& out);
  // Per sequence and head: out = softmax(q k^T · scale) v over that sequence's own tokens only.
  // q, k, v, out: [N, NH*D]; scale = 1/sqrt(D).
  void attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t num_heads,
                 const Tensor& out);
  // out[B,H] from hidden[N,H] over the current batch: kCls = first token, kMean = mean over all
  // of a sequence's tokens ([CLS]/[SEP] included), kMax = elementwise max. kPooled is kCls
  // followed by the pooler dense + tanh, done by BertModel with gemm + tanh.
  void pool(const Tensor& hidden, PoolMode mode, const Tensor& out);
  void tanh(const Tensor& x);          // in place
  void l2_normalize(const Tensor& x);  // in place, per row; a zero row stays zero

  // ---- replay ----
  // Runs `ops`: a fixed sequence of this backend's ops on the current batch. A backend may record
  // it and, for a later batch with the same sequence lengths and the same `tag`, replay the
  // recording instead of calling `ops` (CUDA: one graph launch instead of ~150 kernel launches).
  // The caller promises that the same tag and lengths mean the same calls on the same tensors,
  // and that `ops` does nothing else (its host code may not run on a replay). While profiling,
  // `ops` always runs.
  void run_ops(uint64_t tag, const std::function<void()>& ops);

  // ---- profiling (bertc bench --profile) ----
  // While on, every op above synchronizes the device before and after itself and adds its wall
  // time to its entry ("gemm [768, 3072]", "attention", ...): where a forward pass goes. Profiled
  // runs are slower than plain ones by the synchronizations.
  struct OpTime {
    std::string op;
    double seconds = 0;
    int64_t calls = 0;
  };
  void set_profiling(bool on) { profiling_ = on; }
  const std::vector<OpTime>& op_times() const { return op_times_; }
  void clear_op_times() { op_times_.clear(); }

 protected:
  const PackedBatch* batch_ = nullptr;  // set by begin_batch

 private:
  // The checks prepare_weight and prepare_gemm_weight share: dtype, host device, arena device.
  void check_weight(const char* op, const Tensor& host_weight, const Buffer* arena) const;
  // The checks gemm and gemm_bias_gelu share.
  void check_gemm(const char* op, const Tensor& x, const Tensor& w, const Tensor& bias,
                  const Tensor& y) const;

  class OpTimer;  // times one op into op_times_ while profiling_ (backend.cc)
  bool profiling_ = false;
  std::vector<OpTime> op_times_;

 private:
  virtual void do_upload(const void* host, const Tensor& dst) = 0;
  virtual void do_download(const Tensor& src, void* host) = 0;
  virtual Tensor do_prepare_weight(const Tensor& host_weight, Buffer* arena,
                                   size_t& arena_offset_bytes) = 0;
  virtual Tensor do_prepare_gemm_weight(const Tensor& host_weight, Buffer* arena,
                                        size_t& arena_offset_bytes) = 0;
  virtual void do_begin_batch(const PackedBatch& batch) = 0;
  virtual void do_gemm(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y) = 0;
  virtual void do_gemm_qkv(const Tensor& x, const std::array<Tensor, 3>& w,
                           const std::array<Tensor, 3>& bias, const std::array<Tensor, 3>& y) = 0;
  virtual void do_run_ops(uint64_t tag, const std::function<void()>& ops) = 0;
  virtual void do_add_bias_gelu(const Tensor& x, const Tensor& bias) = 0;
  virtual void do_gemm_bias_gelu(const Tensor& x, const Tensor& w, const Tensor& bias,
                                 const Tensor& y) = 0;
  virtual void do_add_bias_residual_layer_norm(const Tensor& x, const Tensor& bias,
                                               const Tensor& residual, const Tensor& gamma,
                                               const Tensor& beta, float eps, const Tensor& y) = 0;
  virtual void do_embed(const Tensor& word, const Tensor& position, const Tensor& token_type,
                        const Tensor& gamma, const Tensor& beta, float eps, const Tensor& out) = 0;
  virtual void do_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t num_heads,
                            const Tensor& out) = 0;
  virtual void do_pool(const Tensor& hidden, PoolMode mode, const Tensor& out) = 0;
  virtual void do_tanh(const Tensor& x) = 0;
  virtual void do_l2_normalize(const Tensor& x) = 0;
};

// The CUDA attention kernels (kernels/cuda/kernels.h): the fp32 SIMT reference kernels, cuBLAS
// batched GEMMs around one softmax kernel, or the fused flash kernel (f16/bf16, D 32 or 64).
enum class CudaAttention { kAuto, kSimt, kGemm, kFlash };

struct BackendOptions {
  Device device = Device::kCpu;
  DType dtype = DType::kF32;  // run precision (CUDA: f32|f16|bf16; CPU: f32|bf16)
  bool allow_tf32 = false;    // CUDA f32 only
  // CUDA only. kAuto: $BERTC_CUDA_ATTENTION (simt | gemm | flash) when set, else simt at f32 and
  // gemm at f16/bf16. A path that cannot take a shape falls back: flash -> gemm -> simt.
  CudaAttention cuda_attention = CudaAttention::kAuto;
  // CUDA only: replay repeated batch shapes as CUDA graphs (run_ops); $BERTC_CUDA_GRAPHS=0 also
  // turns them off.
  bool cuda_graphs = true;
  int threads = 0;            // CPU; 0 = all cores
  // CPU: the instruction set whose kernels the backend runs (kernels/cpu/cpu_plan.h); unset: the
  // process plan (BERTC_CPU, else the best this CPU has). One the CPU lacks is an error.
  std::optional<cpu::Isa> cpu_isa;
  int64_t max_tokens = 0;     // largest N the workspace must hold (CUDA sizes batch buffers)
  int64_t max_seqs = 0;       // largest B
};

}  // namespace bertc
