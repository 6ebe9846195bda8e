// The CPU plan (kernels/cpu/cpu_plan.h): names, which ISAs this CPU runs and why not, complete
// tables, each ISA's table built on the one below, and the process plan as BERTC_CPU leaves it.
#include "kernels/cpu/cpu_plan.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "common/error.h"
#include "kernels/cpu/cpu_features.h"

namespace bertc {
namespace {

TEST(CpuPlan, NamesRoundTrip) {
  for (cpu::Isa isa : cpu::kAllIsas) EXPECT_EQ(cpu::parse_isa(cpu::isa_name(isa)), isa);
  EXPECT_FALSE(cpu::parse_isa("avx3").has_value());
  EXPECT_FALSE(cpu::parse_isa("").has_value());
}

TEST(CpuPlan, PortableAlwaysRunsAndTheOthersFollowTheFeatures) {
  const auto available = cpu::available_isas();
  ASSERT_FALSE(available.empty());
  EXPECT_EQ(available.front(), cpu::Isa::kPortable);
  EXPECT_EQ(cpu::isa_unavailable_reason(cpu::Isa::kPortable), "");
  const cpu::CpuFeatures& f = cpu::cpu_features();
  EXPECT_FALSE(f.model.empty());
#if defined(__x86_64__)
  EXPECT_EQ(cpu::isa_unavailable_reason(cpu::Isa::kNeon), "neon kernels are not built for x86-64");
  EXPECT_EQ(cpu::isa_unavailable_reason(cpu::Isa::kAvx2).empty(), f.avx2 && f.fma && f.f16c);
  EXPECT_EQ(cpu::isa_unavailable_reason(cpu::Isa::kAvx512).empty(),
            f.avx2 && f.fma && f.f16c && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq);
  if (!f.avx512f) {
    EXPECT_NE(cpu::isa_unavailable_reason(cpu::Isa::kAvx512).find("need avx512f"), std::string::npos)
        << cpu::isa_unavailable_reason(cpu::Isa::kAvx512);
  }
  // Each ISA needs the one below it.
  if (cpu::isa_unavailable_reason(cpu::Isa::kAmx).empty()) {
    EXPECT_EQ(cpu::isa_unavailable_reason(cpu::Isa::kAvx512), "");
  }
  if (cpu::isa_unavailable_reason(cpu::Isa::kAvx512).empty()) {
    EXPECT_EQ(cpu::isa_unavailable_reason(cpu::Isa::kAvx2), "");
  }
#elif defined(__aarch64__)
  EXPECT_EQ(cpu::isa_unavailable_reason(cpu::Isa::kNeon), "");
  EXPECT_EQ(cpu::isa_unavailable_reason(cpu::Isa::kAvx2), "avx2 kernels are not built for aarch64");
#endif
}

TEST(CpuPlan, AnUnavailableIsaIsAnErrorNamingTheReason) {
  for (cpu::Isa isa : cpu::kAllIsas) {
    const std::string why = cpu::isa_unavailable_reason(isa);
    if (why.empty()) continue;
    try {
      cpu::cpu_kernels(isa);
      ADD_FAILURE() << cpu::isa_name(isa) << " gave a table";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(why), std::string::npos) << msg;
      EXPECT_NE(msg.find("this CPU runs portable"), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
}

TEST(CpuPlan, EveryTableIsCompleteAndNamed) {
  for (cpu::Isa isa : cpu::available_isas()) {
    SCOPED_TRACE(cpu::isa_name(isa));
    const cpu::CpuKernels& k = cpu::cpu_kernels(isa);
    EXPECT_EQ(k.isa, isa);
    // Every slot is a function pointer followed by its name (the static_assert in cpu_plan.cc
    // counts them).
    const auto* slots = reinterpret_cast<const void* const*>(&k.gemm_packed_floats);
    const size_t n = (sizeof k - offsetof(cpu::CpuKernels, gemm_packed_floats)) / sizeof(void*);
    for (size_t i = 0; i < n; ++i) EXPECT_NE(slots[i], nullptr) << "slot word " << i;
    const auto impls = cpu::kernel_impls(k);
    EXPECT_EQ(impls.size(), 12u);
    EXPECT_EQ(impls.front().first, "gemm");
    const std::string line = cpu::kernel_impls_line(k);
    EXPECT_NE(line.find("attention="), std::string::npos) << line;
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  }
}

TEST(CpuPlan, AnIsaKeepsTheKernelsOfTheOneBelowItHasNoneFor) {
  // The tables chain portable <- avx2 <- avx512 <- amx: tanh has no vector kernel anywhere.
  const auto available = cpu::available_isas();
  for (cpu::Isa isa : available)
    EXPECT_EQ(cpu::cpu_kernels(isa).tanh.fn, cpu::cpu_kernels(cpu::Isa::kPortable).tanh.fn)
        << cpu::isa_name(isa);
  if (cpu::isa_unavailable_reason(cpu::Isa::kAmx).empty()) {
    EXPECT_EQ(cpu::cpu_kernels(cpu::Isa::kAmx).attention.fn,
              cpu::cpu_kernels(cpu::Isa::kAvx512).attention.fn);
  }
}

TEST(CpuPlan, ProcessPlanIsBertcCpuOrTheBest) {
  const char* env = std::getenv("BERTC_CPU");
  const cpu::CpuKernels& plan = cpu::process_kernels();
  if (env && *env) {
    EXPECT_STREQ(cpu::isa_name(plan.isa), env);
  } else {
    EXPECT_EQ(plan.isa, cpu::available_isas().back());
  }
  EXPECT_EQ(&plan, &cpu::cpu_kernels(plan.isa));  // one table per ISA per process
}

#if defined(__x86_64__)
TEST(CpuPlan, Avx512Bf16GemmFollowsTheCpu) {
  if (!cpu::isa_unavailable_reason(cpu::Isa::kAvx512).empty())
    GTEST_SKIP() << "avx512: " << cpu::isa_unavailable_reason(cpu::Isa::kAvx512);
  const cpu::CpuFeatures& f = cpu::cpu_features();
  const std::string impl = cpu::cpu_kernels(cpu::Isa::kAvx512).gemm_bf16.impl;
  // VDPBF16PS where the CPU has it and no AMX hardware (whose CPUs run it at half rate).
  EXPECT_EQ(impl, f.avx512bf16 && !f.amx_tile ? "avx512bf16" : "avx512-widened");
}
#endif

}  // namespace
}  // namespace bertc
