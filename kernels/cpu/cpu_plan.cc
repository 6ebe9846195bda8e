// The CPU plan (kernels/cpu/cpu_plan.h): each ISA's table starts as a copy of the table of the ISA
// below it and replaces the slots it has kernels for. Baseline code: it only takes the addresses of
// the per-ISA kernels, and the process calls them only through a table this CPU can run.
#include "kernels/cpu/cpu_plan.h"

#include <cstddef>
#include <cstdlib>
#include <iterator>

#include "common/error.h"
#include "kernels/attention.h"
#include "kernels/bias_gelu.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/embedding.h"
#include "kernels/gemm.h"
#include "kernels/gemm_bf16.h"
#include "kernels/l2_normalize.h"
#include "kernels/layer_norm.h"
#include "kernels/pooling.h"
#include "kernels/tanh.h"
#include "kernels/topk.h"
#if defined(__x86_64__)
#include "kernels/cpu/kernels_amx.h"
#include "kernels/cpu/kernels_avx2.h"
#include "kernels/cpu/kernels_avx512.h"
#endif

namespace bertc::cpu {
namespace {

// Every slot is a Kernel<...> of two pointers after `isa`: the count keeps kernel_impls (and
// anyone filling a table) honest when a slot is added.
constexpr size_t kSlots = 17;
static_assert(sizeof(CpuKernels) ==
                  offsetof(CpuKernels, gemm_packed_floats) + kSlots * 2 * sizeof(void*),
              "a slot was added or removed: update kSlots, kernel_impls and the tables below");

CpuKernels portable_kernels() {
  CpuKernels k;
  k.isa = Isa::kPortable;
  const char* p = "portable";
  k.gemm_packed_floats = {&gemm_packed_floats, p};
  k.gemm_pack = {&gemm_pack, p};
  k.gemm_packed = {&gemm_packed, "eigen"};
  k.gemm_bf16_packed_elems = {&bertc::gemm_bf16_packed_elems, p};
  k.gemm_bf16_pack = {&bertc::gemm_bf16_pack, p};
  k.gemm_bf16 = {&gemm_bf16, p};
  k.bias_gelu = {&bias_gelu, p};
  k.layer_norm = {&layer_norm, p};
  k.bias_residual_layer_norm = {&bias_residual_layer_norm, p};
  k.embedding = {&embedding, p};
  k.attention_scratch_floats = {&attention_scratch_floats, p};
  k.attention = {&attention, p};
  k.pool = {&pool, p};
  k.tanh = {&tanh, p};
  k.l2_normalize = {&l2_normalize, p};
  k.topk = {&topk, "eigen"};
  k.topk_f16 = {&topk_f16, "eigen"};
  return k;
}

#if defined(__x86_64__)

CpuKernels avx2_kernels() {
  CpuKernels k = portable_kernels();
  k.isa = Isa::kAvx2;
  const char* a = "avx2";
  k.bias_gelu = {&avx2::bias_gelu, a};
  k.layer_norm = {&avx2::layer_norm, a};
  k.bias_residual_layer_norm = {&avx2::bias_residual_layer_norm, a};
  k.embedding = {&avx2::embedding, a};
  k.pool = {&avx2::pool, a};
  k.l2_normalize = {&avx2::l2_normalize, a};
  return k;
}

CpuKernels avx512_kernels(const CpuFeatures& f) {
  CpuKernels k = avx2_kernels();
  k.isa = Isa::kAvx512;
  const char* a = "avx512";
  k.gemm_packed_floats = {&avx512::gemm_packed_floats, a};
  k.gemm_pack = {&avx512::gemm_pack, a};
  k.gemm_packed = {&avx512::gemm_packed, a};
  // VDPBF16PS where the CPU has it and runs it fast. A CPU built with AMX whose tiles Linux did
  // not grant (kernels before 5.16) issues one VDPBF16PS every 2 cycles against 2 FMAs per cycle
  // (Sapphire Rapids), half the multiply-adds, so widening to fp32 is 1.4x faster there (1
  // thread: 3.6 vs 5.1 ms at 128 x 3072 x 768, 57 vs 82 ms at 2048 x 768 x 3072).
  if (f.avx512bf16 && !f.amx_tile) {
    k.gemm_bf16 = {&avx512::gemm_bf16, "avx512bf16"};
  } else {
    k.gemm_bf16 = {&avx512::gemm_bf16_widened, "avx512-widened"};
  }
  k.bias_gelu = {&avx512::bias_gelu, a};
  k.layer_norm = {&avx512::layer_norm, a};
  k.bias_residual_layer_norm = {&avx512::bias_residual_layer_norm, a};
  k.embedding = {&avx512::embedding, a};
  k.attention = {&avx512::attention, a};
  k.pool = {&avx512::pool, a};
  k.l2_normalize = {&avx512::l2_normalize, a};
  k.topk = {&avx512::topk, a};
  k.topk_f16 = {&avx512::topk_f16, a};
  return k;
}

CpuKernels amx_kernels(const CpuFeatures& f) {
  CpuKernels k = avx512_kernels(f);
  k.isa = Isa::kAmx;
  k.gemm_bf16 = {&amx::gemm_bf16, "amx"};
  return k;
}

#endif

// What each ISA needs of the CPU, as the names CpuFeatures::list() prints; empty when it has all.
std::string missing_features(Isa isa, const CpuFeatures& f) {
  std::string missing;
  auto need = [&](bool has, const char* name) {
    if (has) return;
    if (!missing.empty()) missing += ", ";
    missing += name;
  };
  switch (isa) {
    case Isa::kPortable: break;
    case Isa::kAmx:
      need(f.amx_tile, "amx-tile");
      need(f.amx_bf16, "amx-bf16");
      if (f.amx_tile && f.amx_bf16)
        need(f.amx_granted, "the AMX tile state (Linux >= 5.16 grants it)");
      need(f.avx512bf16, "avx512bf16");
      [[fallthrough]];
    case Isa::kAvx512:
      need(f.avx512f, "avx512f");
      need(f.avx512bw, "avx512bw");
      need(f.avx512vl, "avx512vl");
      need(f.avx512dq, "avx512dq");
      [[fallthrough]];
    case Isa::kAvx2:
      need(f.avx2, "avx2");
      need(f.fma, "fma");
      need(f.f16c, "f16c");
      break;
    case Isa::kNeon: need(f.neon, "neon"); break;
  }
  return missing;
}

#if defined(__x86_64__)
constexpr const char* kArch = "x86-64";
#elif defined(__aarch64__)
constexpr const char* kArch = "aarch64";
#else
constexpr const char* kArch = "this architecture";
#endif

bool built_for(Isa isa) {
#if defined(__x86_64__)
  return isa != Isa::kNeon;
#elif defined(__aarch64__)
  return isa == Isa::kPortable || isa == Isa::kNeon;
#else
  return isa == Isa::kPortable;
#endif
}

// The names of isas, separated by sep.
std::string joined(const std::vector<Isa>& isas, const char* sep = ", ") {
  std::string out;
  for (Isa isa : isas) {
    if (!out.empty()) out.append(sep);
    out.append(isa_name(isa));
  }
  return out;
}

// The tables, made once per ISA on first use (never for an ISA this process cannot run).
const CpuKernels& table(Isa isa) {
#if defined(__x86_64__)
  static const CpuKernels portable = portable_kernels();
  switch (isa) {
    case Isa::kAvx2: {
      static const CpuKernels t = avx2_kernels();
      return t;
    }
    case Isa::kAvx512: {
      static const CpuKernels t = avx512_kernels(cpu_features());
      return t;
    }
    case Isa::kAmx: {
      static const CpuKernels t = amx_kernels(cpu_features());
      return t;
    }
    default: return portable;
  }
#else
  static const CpuKernels portable = portable_kernels();
  (void)isa;
  return portable;
#endif
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kPortable: return "portable";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kAmx: return "amx";
    case Isa::kNeon: return "neon";
  }
  return "?";
}

std::optional<Isa> parse_isa(std::string_view name) {
  for (Isa isa : kAllIsas)
    if (name == isa_name(isa)) return isa;
  return std::nullopt;
}

std::string isa_unavailable_reason(Isa isa) {
  if (!built_for(isa))
    return str_cat(isa_name(isa), " kernels are not built for ", kArch);
  const std::string missing = missing_features(isa, cpu_features());
  if (missing.empty()) return "";
  return str_cat(isa_name(isa), " kernels need ", missing, ", which this CPU (",
                 cpu_features().model, ") lacks");
}

std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (Isa isa : kAllIsas)
    if (isa_unavailable_reason(isa).empty()) out.push_back(isa);
  return out;
}

const CpuKernels& cpu_kernels(Isa isa) {
  const std::string why = isa_unavailable_reason(isa);
  BERTC_CHECK(why.empty(), why, "; this CPU runs ", joined(available_isas()));
  return table(isa);
}

const CpuKernels& process_kernels() {
  // Decided once: a process never mixes two plans' bits. A bad BERTC_CPU is reported again on
  // every call, so each caller fails the same way.
  struct Choice {
    const CpuKernels* kernels = nullptr;
    std::string error;
    bool usage = false;
  };
  static const Choice choice = [] {
    Choice c;
    const std::vector<Isa> available = available_isas();
    const char* env = std::getenv("BERTC_CPU");
    if (!env || !*env) {
      c.kernels = &table(available.back());
      return c;
    }
    const std::optional<Isa> isa = parse_isa(env);
    if (!isa) {
      const std::vector<Isa> all(std::begin(kAllIsas), std::end(kAllIsas));
      c.error = str_cat("BERTC_CPU=", env, ": unknown instruction set (valid: ", joined(all, "|"),
                        "; this CPU runs ", joined(available), ")");
      c.usage = true;
    } else if (const std::string why = isa_unavailable_reason(*isa); !why.empty()) {
      c.error = str_cat("BERTC_CPU=", env, ": ", why, "; this CPU runs ", joined(available));
    } else {
      c.kernels = &table(*isa);
    }
    return c;
  }();
  if (choice.usage) throw UsageError(choice.error);
  BERTC_CHECK(choice.kernels != nullptr, choice.error);
  return *choice.kernels;
}

std::vector<std::pair<std::string, std::string>> kernel_impls(const CpuKernels& k) {
  return {{"gemm", k.gemm_packed.impl},
          {"gemm_bf16", k.gemm_bf16.impl},
          {"bias_gelu", k.bias_gelu.impl},
          {"layer_norm", k.layer_norm.impl},
          {"bias_residual_layer_norm", k.bias_residual_layer_norm.impl},
          {"embedding", k.embedding.impl},
          {"attention", k.attention.impl},
          {"pool", k.pool.impl},
          {"tanh", k.tanh.impl},
          {"l2_normalize", k.l2_normalize.impl},
          {"topk", k.topk.impl},
          {"topk_f16", k.topk_f16.impl}};
}

std::string kernel_impls_line(const CpuKernels& k) {
  std::string out;
  for (const auto& [op, impl] : kernel_impls(k)) {
    if (!out.empty()) out.append(" ");
    out.append(op).append("=").append(impl);
  }
  return out;
}

std::string describe_cpu_plan() {
  const CpuKernels& plan = process_kernels();
  const char* env = std::getenv("BERTC_CPU");
  const std::string why =
      env && *env ? str_cat("BERTC_CPU=", env, "; this CPU runs ", joined(available_isas()))
                  : str_cat("the best of ", joined(available_isas()), "; BERTC_CPU picks another");
  return str_cat("cpu: ", cpu_features().model, " (", cpu_features().list(), ")\n",
                 "cpu kernels: ", isa_name(plan.isa), " (", why, "): ", kernel_impls_line(plan));
}

}  // namespace bertc::cpu
