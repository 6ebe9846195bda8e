// Every CPU kernel path as a test parameter: a value-parameterized test takes a cpu::Isa (alone or
// in a tuple with its shape), names its instances after the ISA ("avx512_3"), and starts with
// BERTC_KERNELS_OR_SKIP, which gives the ISA's table or skips, saying why, where this CPU (or this
// build's architecture) lacks it. So every path is in every run's test list, run or skipped.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "kernels/cpu/cpu_plan.h"

namespace bertc::test {

inline const auto kIsas = ::testing::ValuesIn(cpu::kAllIsas);

struct IsaName {
  std::string operator()(const ::testing::TestParamInfo<cpu::Isa>& info) const {
    return cpu::isa_name(info.param);
  }
  template <typename... T>
  std::string operator()(const ::testing::TestParamInfo<std::tuple<cpu::Isa, T...>>& info) const {
    return std::string(cpu::isa_name(std::get<0>(info.param))) + "_" + std::to_string(info.index);
  }
};

}  // namespace bertc::test

// const cpu::CpuKernels& NAME = the table of ISA, or GTEST_SKIP() with the reason.
#define BERTC_KERNELS_OR_SKIP(NAME, ISA)                                              \
  if (const std::string why_ = ::bertc::cpu::isa_unavailable_reason(ISA); !why_.empty()) \
    GTEST_SKIP() << ::bertc::cpu::isa_name(ISA) << ": " << why_;                      \
  const ::bertc::cpu::CpuKernels& NAME = ::bertc::cpu::cpu_kernels(ISA)
