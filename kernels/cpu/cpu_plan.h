// The CPU plan: one table of kernel pointers per instruction set (as ONNX Runtime's MLAS platform
// table), chosen from the detected features (cpu_features.h). A process has one plan, the best ISA
// this CPU runs or the one BERTC_CPU=portable|avx2|avx512|amx|neon names; a CpuBackend keeps one
// table for its life (BackendOptions::cpu_isa may pick another, e.g. to test every path in one
// process), because the packed weight layouts and the bits of the results belong to it.
//
// Adding a kernel for an ISA: write kernels/cpu/<op>_<isa>.cc defining bertc::cpu::<isa>::<op>
// with the signature of bertc::cpu::<op>, declare it in kernels/cpu/kernels_<isa>.h and set the
// op's slot in that ISA's table in cpu_plan.cc. A slot an ISA leaves alone keeps the kernel of the
// ISA below it (portable <- avx2 <- avx512 <- amx; portable <- neon).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernels/gemm.h"     // Epilogue
#include "kernels/pooling.h"  // PoolMode

namespace bertc::cpu {

enum class Isa { kPortable, kAvx2, kAvx512, kAmx, kNeon };
inline constexpr Isa kAllIsas[] = {Isa::kPortable, Isa::kAvx2, Isa::kAvx512, Isa::kAmx, Isa::kNeon};

// "portable", "avx2", "avx512", "amx", "neon": the BERTC_CPU values and the names in test names.
const char* isa_name(Isa isa);
std::optional<Isa> parse_isa(std::string_view name);

// Empty when this process can run isa's kernels, else why not: "avx512 kernels need avx512f,
// avx512bw, which this CPU (...) lacks" or "neon kernels are not built for x86-64".
std::string isa_unavailable_reason(Isa isa);
// The ISAs this process can run, portable first, the best last.
std::vector<Isa> available_isas();

// One slot of the table: the kernel and the name of its implementation ("avx512", "avx512bf16"),
// which bertc --version and bertc bench print. Called like the function it holds.
template <typename Signature>
struct Kernel;
template <typename R, typename... Args>
struct Kernel<R(Args...)> {
  R (*fn)(Args...) = nullptr;
  const char* impl = nullptr;
  R operator()(Args... args) const { return fn(args...); }
};

// The ops of kernels/<op>.h, each with the signature of bertc::cpu::<op>.
struct CpuKernels {
  Isa isa = Isa::kPortable;
  // f32 dense layers: w packed once at load in this table's layout (kernels/gemm.h).
  Kernel<int64_t(int64_t m, int64_t k)> gemm_packed_floats;
  Kernel<void(const float* w, int64_t m, int64_t k, float* packed)> gemm_pack;
  Kernel<void(const float* x, const float* packed, const float* bias, float* y, int64_t n,
              int64_t m, int64_t k, Epilogue epilogue)> gemm_packed;
  // bf16 dense layers (kernels/gemm_bf16.h): w rounded to bf16 and packed once at load.
  Kernel<int64_t(int64_t m, int64_t k)> gemm_bf16_packed_elems;
  Kernel<void(const float* w, int64_t m, int64_t k, uint16_t* packed)> gemm_bf16_pack;
  Kernel<void(const float* x, const uint16_t* w_packed, const float* bias, float* y, int64_t n,
              int64_t m, int64_t k, Epilogue epilogue)> gemm_bf16;
  Kernel<void(float* x, const float* bias, int64_t rows, int64_t cols)> bias_gelu;
  Kernel<void(const float* x, const float* gamma, const float* beta, float eps, float* y,
              int64_t rows, int64_t cols)> layer_norm;
  Kernel<void(const float* x, const float* bias, const float* residual, const float* gamma,
              const float* beta, float eps, float* y, int64_t rows, int64_t cols)>
      bias_residual_layer_norm;
  Kernel<void(const int32_t* ids, const int32_t* type_ids, const int32_t* position_ids, int64_t n,
              const float* word, const float* position, const float* token_type,
              const float* gamma, const float* beta, float eps, int64_t hidden, float* out)>
      embedding;
  Kernel<int64_t(int64_t seq_len_max, int64_t threads)> attention_scratch_floats;
  Kernel<void(const float* q, const float* k, const float* v, float* out,
              const int32_t* cu_seqlens, int64_t num_seqs, int64_t num_heads, int64_t head_dim,
              float* scratch)> attention;
  Kernel<void(const float* hidden, const int32_t* cu_seqlens, int64_t num_seqs,
              int64_t hidden_size, PoolMode mode, float* out)> pool;
  Kernel<void(float* x, int64_t n)> tanh;
  Kernel<void(float* x, int64_t rows, int64_t cols)> l2_normalize;
  Kernel<void(const float* matrix, int64_t rows, int64_t dim, const float* queries,
              int64_t num_queries, int64_t k, int64_t* out_index, float* out_score, int threads)>
      topk;
  Kernel<void(const uint16_t* matrix, int64_t rows, int64_t dim, const float* queries,
              int64_t num_queries, int64_t k, int64_t* out_index, float* out_score, int threads)>
      topk_f16;
};

// isa's table; throws bertc::Error with isa_unavailable_reason when this process cannot run it.
const CpuKernels& cpu_kernels(Isa isa);

// The process plan: BERTC_CPU when set, else the best ISA of available_isas(). Decided on the
// first call; an unknown BERTC_CPU value throws bertc::UsageError and one this CPU cannot run
// bertc::Error, each one line listing the valid values (and again on every later call).
const CpuKernels& process_kernels();

// (op, implementation) for every op of a table, in table order; the sizing and packing slots are
// listed under their op ("gemm", "gemm_bf16", "attention").
std::vector<std::pair<std::string, std::string>> kernel_impls(const CpuKernels& kernels);
// One line: "gemm=avx512 gemm_bf16=avx512bf16 bias_gelu=avx512 ...".
std::string kernel_impls_line(const CpuKernels& kernels);

// What bertc --version and bertc bench print, two lines (no final newline): the CPU and the
// features found, then the process plan and the kernel of each op:
//   cpu: AMD EPYC 9R14 (avx2 fma f16c avx512f avx512bw avx512vl avx512dq avx512vnni avx512bf16)
//   cpu kernels: avx512 (the best of portable, avx2, avx512; BERTC_CPU picks another): gemm=...
// Throws as process_kernels() does for a bad BERTC_CPU.
std::string describe_cpu_plan();

}  // namespace bertc::cpu
