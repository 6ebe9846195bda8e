// What this CPU can run, detected once per process: x86-64 from CPUID and XGETBV (the OS must
// also save the registers), AMX with Linux's per-process grant of the tile state; aarch64 from
// getauxval. kernels/cpu/cpu_plan.h turns it into the kernels each op uses.
#pragma once

#include <string>

namespace bertc::cpu {

struct CpuFeatures {
  std::string model;  // "AMD EPYC 9R14 96-Core Processor", "unknown"
  // x86-64
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512vnni = false, avx512bf16 = false;
  bool amx_tile = false, amx_bf16 = false;  // the CPU has them (CPUID)
  bool amx_granted = false;                 // and Linux gave this process the tile state
  // aarch64 (NEON is part of armv8-a)
  bool neon = false, dotprod = false, bf16 = false, i8mm = false;

  // The features found, space-separated ("avx2 fma f16c avx512f ... amx-bf16 (not granted)").
  std::string list() const;
};

// Detected on the first call (which also asks Linux for the AMX tile state when the CPU has AMX).
const CpuFeatures& cpu_features();

}  // namespace bertc::cpu
