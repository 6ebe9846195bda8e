// CpuBackend: the Backend virtuals on the host. Shapes were checked by engine/backend.cc before
// any of these run; here each op only unpacks tensors and calls its bertc::cpu kernel.
#include "engine/cpu_backend.h"

#include <omp.h>
#include <sys/mman.h>

#include <Eigen/Core>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/error.h"
#include "kernels/gemm.h"

namespace bertc {
namespace {

constexpr size_t kAlignBytes = 64;       // a cache line, and one AVX-512 register
constexpr size_t kHugePage = size_t{2} << 20;
constexpr int64_t kInitialSeqLen = 512;  // BERT's max_position_embeddings: most batches fit

size_t align_up(size_t n) { return (n + kAlignBytes - 1) / kAlignBytes * kAlignBytes; }

}  // namespace

CpuBackend::CpuBackend(const BackendOptions& options)
    : kernels_(options.cpu_isa ? cpu::cpu_kernels(*options.cpu_isa) : cpu::process_kernels()) {
  BERTC_CHECK(options.dtype == DType::kF32 || options.dtype == DType::kBF16, "cpu backend: dtype ",
              dtype_name(options.dtype), " is not supported (the cpu backend runs f32 or bf16)");
  gemm_dtype_ = options.dtype;
  set_threads(options.threads);
  reserve_attention_scratch(kInitialSeqLen);
}

void CpuBackend::set_threads(int threads) {
  // OpenMP's own default, read once before anyone changes it: every core, or OMP_NUM_THREADS.
  static const int default_threads = omp_get_max_threads();
  threads_ = threads > 0 ? threads : default_threads;
  omp_set_num_threads(threads_);
  // Eigen stays single-threaded: cpu::gemm runs Eigen per tile inside its own OpenMP loop, so
  // that every row gets the same bits whatever the batch size or thread count (kernels/cpu/gemm.cc).
  Eigen::setNbThreads(1);
}

Buffer CpuBackend::allocate(size_t nbytes) {
  // Large buffers (the packed weights, the workspace) are streamed through every forward pass:
  // on 2 MB pages one TLB entry covers 512 times more of them. Linux backs an aligned range with
  // huge pages when asked (transparent_hugepage = madvise, the common default); only advice.
  const size_t align = nbytes >= kHugePage ? kHugePage : kAlignBytes;
  // aligned_alloc needs a size that is a multiple of the alignment, and 0 bytes may give null.
  const size_t size = std::max((nbytes + align - 1) / align * align, align);
  void* data = std::aligned_alloc(align, size);
  BERTC_CHECK(data != nullptr, "cpu backend: out of memory allocating ", nbytes, " bytes");
  if (align == kHugePage) ::madvise(data, size, MADV_HUGEPAGE);
  return Buffer(data, nbytes, Device::kCpu, [](void* p) { std::free(p); });
}

void CpuBackend::do_upload(const void* host, const Tensor& dst) {
  if (dst.nbytes()) std::memcpy(dst.data, host, dst.nbytes());
}

void CpuBackend::do_download(const Tensor& src, void* host) {
  if (src.nbytes()) std::memcpy(host, src.data, src.nbytes());
}

void CpuBackend::widen(const Tensor& half, float* dst) {
  const auto* src = half.as<const uint16_t>();
  const int64_t n = half.numel();
  if (half.dtype == DType::kF16) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(src[i]);
  } else {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(src[i]);
  }
}

Tensor CpuBackend::do_prepare_weight(const Tensor& host_weight, Buffer* arena,
                                     size_t& arena_offset_bytes) {
  if (host_weight.dtype == DType::kF32) return host_weight;  // zero copy: a view into the mmap
  const size_t offset = align_up(arena_offset_bytes);
  const size_t nbytes = static_cast<size_t>(host_weight.numel()) * sizeof(float);
  arena_offset_bytes = offset + nbytes;
  Tensor out;
  out.dtype = DType::kF32;
  out.shape = host_weight.shape;
  out.device = Device::kCpu;
  if (!arena) return out;  // sizing pass: data stays null
  out = arena->view(offset, DType::kF32, host_weight.shape);
  float* dst = out.as<float>();
  widen(host_weight, dst);
  return out;
}

Tensor CpuBackend::do_prepare_gemm_weight(const Tensor& host_weight, Buffer* arena,
                                          size_t& arena_offset_bytes) {
  const bool bf16 = gemm_dtype_ == DType::kBF16;
  const int64_t m = host_weight.shape[0], k = host_weight.shape[1];
  const size_t offset = align_up(arena_offset_bytes);
  arena_offset_bytes =
      offset + (bf16 ? static_cast<size_t>(kernels_.gemm_bf16_packed_elems(m, k)) * sizeof(uint16_t)
                     : static_cast<size_t>(kernels_.gemm_packed_floats(m, k)) * sizeof(float));
  Tensor out;
  out.dtype = gemm_dtype_;
  out.shape = host_weight.shape;
  out.device = Device::kCpu;
  if (!arena) return out;  // sizing pass
  // The packed form is larger than [m, k] (padded): the view's shape says what gemm multiplies,
  // the bytes behind it are the packed layout (the sizing pass reserved them).
  out.data = static_cast<char*>(arena->data()) + offset;
  const float* w = host_weight.as<const float>();
  std::vector<float> widened;
  if (host_weight.dtype != DType::kF32) {
    widened.resize(static_cast<size_t>(m * k));
    widen(host_weight, widened.data());
    w = widened.data();
  }
  if (bf16) {
    kernels_.gemm_bf16_pack(w, m, k, out.as<uint16_t>());
  } else {
    kernels_.gemm_pack(w, m, k, out.as<float>());
    packed_f32_.insert(out.data);
  }
  return out;
}

void CpuBackend::reserve_attention_scratch(int64_t seq_len_max) {
  const auto floats = kernels_.attention_scratch_floats(seq_len_max, omp_get_max_threads());
  const size_t nbytes = static_cast<size_t>(floats) * sizeof(float);
  if (nbytes > attention_scratch_.nbytes()) attention_scratch_ = allocate(nbytes);
}

void CpuBackend::do_begin_batch(const PackedBatch& batch) {
  // The kernels read ids, positions and cu_seqlens straight from `batch` (host memory).
  reserve_attention_scratch(batch.seq_len_max);
}

void CpuBackend::run_gemm(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                          Epilogue epilogue) {
  if (w.dtype == DType::kBF16)
    return kernels_.gemm_bf16(x.as<const float>(), w.as<const uint16_t>(), bias.as<const float>(),
                          y.as<float>(), x.shape[0], w.shape[0], x.shape[1], epilogue);
  if (packed_f32_.count(w.data))
    return kernels_.gemm_packed(x.as<const float>(), w.as<const float>(), bias.as<const float>(),
                            y.as<float>(), x.shape[0], w.shape[0], x.shape[1], epilogue);
  cpu::gemm(x.as<const float>(), w.as<const float>(), bias.as<const float>(), y.as<float>(),
            x.shape[0], w.shape[0], x.shape[1], epilogue);
}

void CpuBackend::do_gemm(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y) {
  run_gemm(x, w, bias, y, Epilogue::kBias);
}

// Three gemms, one after the other: the same bits as three gemm calls.
void CpuBackend::do_gemm_qkv(const Tensor& x, const std::array<Tensor, 3>& w,
                             const std::array<Tensor, 3>& bias, const std::array<Tensor, 3>& y) {
  for (int i = 0; i < 3; ++i) run_gemm(x, w[i], bias[i], y[i], Epilogue::kBias);
}

void CpuBackend::do_gemm_bias_gelu(const Tensor& x, const Tensor& w, const Tensor& bias,
                                   const Tensor& y) {
  run_gemm(x, w, bias, y, Epilogue::kBiasGelu);
}

void CpuBackend::do_add_bias_gelu(const Tensor& x, const Tensor& bias) {
  kernels_.bias_gelu(x.as<float>(), bias.as<const float>(), x.shape[0], x.shape[1]);
}

void CpuBackend::do_add_bias_residual_layer_norm(const Tensor& x, const Tensor& bias,
                                                 const Tensor& residual, const Tensor& gamma,
                                                 const Tensor& beta, float eps, const Tensor& y) {
  kernels_.bias_residual_layer_norm(x.as<const float>(), bias.as<const float>(),
                                residual.as<const float>(), gamma.as<const float>(),
                                beta.as<const float>(), eps, y.as<float>(), x.shape[0], x.shape[1]);
}

void CpuBackend::do_embed(const Tensor& word, const Tensor& position, const Tensor& token_type,
                          const Tensor& gamma, const Tensor& beta, float eps, const Tensor& out) {
  kernels_.embedding(batch_->input_ids.data(), batch_->token_type_ids.data(),
                 batch_->position_ids.data(), batch_->num_tokens(), word.as<const float>(),
                 position.as<const float>(), token_type.as<const float>(), gamma.as<const float>(),
                 beta.as<const float>(), eps, word.shape[1], out.as<float>());
}

void CpuBackend::do_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t num_heads,
                              const Tensor& out) {
  // begin_batch sized the scratch for this batch's seq_len_max and the thread count then; a
  // set_threads in between may raise the count, so check again (allocates only if it grew).
  reserve_attention_scratch(batch_->seq_len_max);
  kernels_.attention(q.as<const float>(), k.as<const float>(), v.as<const float>(), out.as<float>(),
                 batch_->cu_seqlens.data(), batch_->num_seqs(), num_heads,
                 q.shape[1] / num_heads, static_cast<float*>(attention_scratch_.data()));
}

void CpuBackend::do_pool(const Tensor& hidden, PoolMode mode, const Tensor& out) {
  kernels_.pool(hidden.as<const float>(), batch_->cu_seqlens.data(), batch_->num_seqs(),
            hidden.shape[1], mode, out.as<float>());
}

void CpuBackend::do_tanh(const Tensor& x) { kernels_.tanh(x.as<float>(), x.numel()); }

void CpuBackend::do_l2_normalize(const Tensor& x) {
  kernels_.l2_normalize(x.as<float>(), x.shape[0], x.shape[1]);
}

}  // namespace bertc
