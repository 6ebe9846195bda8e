// CpuBackend: Backend on the host, running one ISA's table of bertc::cpu kernels for its whole life
// (kernels/cpu/cpu_plan.h; OpenMP threads). Activations are f32. Weights other than gemm's are used
// in place when f32 (zero-copy views into the mmap) and widened once when f16/bf16. gemm weights
// are packed once at load in the table's layout: at f32 for its gemm_packed, at bf16 rounded for
// its gemm_bf16 (kernels/gemm_bf16.h); BertModel then releases the file's copy.
#pragma once

#include <unordered_set>

#include "engine/backend.h"
#include "kernels/cpu/cpu_plan.h"
#include "kernels/gemm.h"  // Epilogue

namespace bertc {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const BackendOptions& options);

  Device device() const override { return Device::kCpu; }
  const char* name() const override { return "cpu"; }
  DType compute_dtype() const override { return DType::kF32; }
  DType gemm_weight_dtype() const override { return gemm_dtype_; }
  // threads <= 0 means OpenMP's default (every core, or $OMP_NUM_THREADS when set). Sets the
  // OpenMP team size of the calling thread, which is the thread that runs the forward pass.
  void set_threads(int threads) override;
  void synchronize() override {}
  Buffer allocate(size_t nbytes) override;
  // The kernels this backend runs.
  const cpu::CpuKernels& kernels() const { return kernels_; }

 private:
  void do_upload(const void* host, const Tensor& dst) override;
  void do_download(const Tensor& src, void* host) override;
  Tensor do_prepare_weight(const Tensor& host_weight, Buffer* arena,
                           size_t& arena_offset_bytes) override;
  Tensor do_prepare_gemm_weight(const Tensor& host_weight, Buffer* arena,
                                size_t& arena_offset_bytes) override;
  void do_begin_batch(const PackedBatch& batch) override;
  void do_gemm(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y) override;
  void do_gemm_qkv(const Tensor& x, const std::array<Tensor, 3>& w,
                   const std::array<Tensor, 3>& bias, const std::array<Tensor, 3>& y) override;
  // Nothing to record on the CPU: runs ops.
  void do_run_ops(uint64_t, const std::function<void()>& ops) override { ops(); }
  void do_add_bias_gelu(const Tensor& x, const Tensor& bias) override;
  void do_gemm_bias_gelu(const Tensor& x, const Tensor& w, const Tensor& bias,
                         const Tensor& y) override;
  void run_gemm(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                Epilogue epilogue);
  void do_add_bias_residual_layer_norm(const Tensor& x, const Tensor& bias, const Tensor& residual,
                                       const Tensor& gamma, const Tensor& beta, float eps,
                                       const Tensor& y) override;
  void do_embed(const Tensor& word, const Tensor& position, const Tensor& token_type,
                const Tensor& gamma, const Tensor& beta, float eps, const Tensor& out) override;
  void do_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t num_heads,
                    const Tensor& out) override;
  void do_pool(const Tensor& hidden, PoolMode mode, const Tensor& out) override;
  void do_tanh(const Tensor& x) override;
  void do_l2_normalize(const Tensor& x) override;

  // f16 or bf16 elements of `half` to f32 at dst.
  static void widen(const Tensor& half, float* dst);
  // Sizes attention_scratch_ for seq_len_max and the current thread count; allocates only when
  // a longer sequence or more threads than ever before arrive.
  void reserve_attention_scratch(int64_t seq_len_max);

  const cpu::CpuKernels& kernels_;
  int threads_ = 1;
  DType gemm_dtype_ = DType::kF32;  // f32, or bf16 at --dtype bf16
  // f32 weights prepare_gemm_weight packed for kernels_.gemm_packed; any other f32 w given to
  // gemm is in HF's [M, K] layout and takes the portable cpu::gemm.
  std::unordered_set<const void*> packed_f32_;
  Buffer attention_scratch_;  // [attention_scratch_floats(seq_len_max, threads_)]
};

}  // namespace bertc
