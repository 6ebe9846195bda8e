// CPU feature detection (kernels/cpu/cpu_features.h). The one baseline file besides cpu_plan.cc
// that may ask about instruction sets; it reads CPUID itself rather than __builtin_cpu_supports,
// whose feature names differ between GCC and clang versions (AMX, AVX512-BF16).
#include "kernels/cpu/cpu_features.h"

#include <cstring>
#include <fstream>
#include <string>

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
#endif

namespace bertc::cpu {
namespace {

// "model name" (x86, most arm64 kernels print none) or "Model"/"Hardware" from /proc/cpuinfo.
std::string cpuinfo_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    for (const char* key : {"model name", "Model", "Hardware"}) {
      if (line.rfind(key, 0) != 0) continue;
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      const size_t start = line.find_first_not_of(" \t", colon + 1);
      if (start != std::string::npos) return line.substr(start);
    }
  }
  return "";
}

#if defined(__x86_64__)

// Linux gives a process the (8 KB) AMX tile state only when asked:
// arch/x86/include/uapi/asm/prctl.h.
constexpr int kArchReqXcompPerm = 0x1023;
constexpr int kXfeatureXtiledata = 18;

// XCR0: which register states the OS saves on a context switch. Inline asm, because the
// _xgetbv intrinsic needs -mxsave, which this baseline file does not get.
unsigned long long xcr0() {
  unsigned eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

std::string brand_string() {
  unsigned regs[12] = {};
  unsigned max_ext = __get_cpuid_max(0x80000000u, nullptr);
  if (max_ext < 0x80000004u) return "";
  for (unsigned i = 0; i < 3; ++i)
    __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2],
                &regs[4 * i + 3]);
  const char* chars = reinterpret_cast<const char*>(regs);
  std::string s(chars, strnlen(chars, sizeof regs));
  const size_t a = s.find_first_not_of(' '), b = s.find_last_not_of(' ');
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

CpuFeatures detect() {
  CpuFeatures f;
  f.model = brand_string();
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool osxsave = ecx >> 27 & 1, avx = ecx >> 28 & 1;
  const unsigned long long xcr = osxsave ? xcr0() : 0;
  const bool os_ymm = (xcr & 0x6) == 0x6;             // SSE + AVX state
  const bool os_zmm = os_ymm && (xcr & 0xe0) == 0xe0;  // + opmask, ZMM_Hi256, Hi16_ZMM
  const bool os_tiles = (xcr & 0x60000) == 0x60000;    // XTILECFG + XTILEDATA
  const bool fma = ecx >> 12 & 1, f16c = ecx >> 29 & 1;
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  unsigned b7 = 0, c7 = 0, d7 = 0, a7 = 0;
  __cpuid_count(7, 0, a7, b7, c7, d7);
  unsigned a71 = 0, b71 = 0, c71 = 0, d71 = 0;
  if (a7 >= 1) __cpuid_count(7, 1, a71, b71, c71, d71);
  f.fma = os_ymm && avx && fma;
  f.f16c = os_ymm && avx && f16c;
  f.avx2 = os_ymm && avx && (b7 >> 5 & 1);
  f.avx512f = os_zmm && (b7 >> 16 & 1);
  f.avx512dq = f.avx512f && (b7 >> 17 & 1);
  f.avx512bw = f.avx512f && (b7 >> 30 & 1);
  f.avx512vl = f.avx512f && (b7 >> 31 & 1);
  f.avx512vnni = f.avx512f && (c7 >> 11 & 1);
  f.avx512bf16 = f.avx512f && (a71 >> 5 & 1);
  f.amx_bf16 = d7 >> 22 & 1;
  f.amx_tile = d7 >> 24 & 1;
  f.amx_granted = f.amx_tile && f.amx_bf16 && os_tiles &&
                  syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  return f;
}

#elif defined(__aarch64__)

CpuFeatures detect() {
  CpuFeatures f;
  f.neon = true;  // Advanced SIMD is mandatory in armv8-a
  const unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
  f.dotprod = hwcap >> 20 & 1;  // HWCAP_ASIMDDP
  f.i8mm = hwcap2 >> 13 & 1;    // HWCAP2_I8MM
  f.bf16 = hwcap2 >> 14 & 1;    // HWCAP2_BF16
  return f;
}

#else

CpuFeatures detect() { return {}; }

#endif

}  // namespace

std::string CpuFeatures::list() const {
  std::string out;
  auto add = [&](bool has, const char* name) {
    if (!has) return;
    if (!out.empty()) out += ' ';
    out += name;
  };
  add(avx2, "avx2");
  add(fma, "fma");
  add(f16c, "f16c");
  add(avx512f, "avx512f");
  add(avx512bw, "avx512bw");
  add(avx512vl, "avx512vl");
  add(avx512dq, "avx512dq");
  add(avx512vnni, "avx512vnni");
  add(avx512bf16, "avx512bf16");
  add(amx_tile, amx_granted ? "amx-tile" : "amx-tile (not granted by the kernel)");
  add(amx_bf16, "amx-bf16");
  add(neon, "neon");
  add(dotprod, "dotprod");
  add(bf16, "bf16");
  add(i8mm, "i8mm");
  return out.empty() ? "none beyond the baseline" : out;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    CpuFeatures f = detect();
    if (f.model.empty()) f.model = cpuinfo_model();
    if (f.model.empty()) f.model = "unknown";
    return f;
  }();
  return features;
}

}  // namespace bertc::cpu
