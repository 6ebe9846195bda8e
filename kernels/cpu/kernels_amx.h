// The AMX kernels (files kernels/cpu/*_amx.cc, compiled with AVX-512 and AMX flags): each has the
// signature of the bertc::cpu function of the same name and runs only where kernels/cpu/cpu_plan.cc
// put it in a table, i.e. on a CPU with AMX-TILE/BF16 whose tile state Linux granted.
#pragma once

#include <cstdint>

#include "kernels/gemm.h"  // Epilogue

namespace bertc::cpu::amx {

// bf16 weights packed by bertc::gemm_bf16_pack, multiplied on AMX tiles (gemm_bf16_amx.cc).
void gemm_bf16(const float* x, const uint16_t* w_packed, const float* bias, float* y, int64_t n,
               int64_t m, int64_t k, Epilogue epilogue);

}  // namespace bertc::cpu::amx
