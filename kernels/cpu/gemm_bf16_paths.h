// What the CPU bf16 gemm paths (kernels/gemm_bf16.h) share, defined once in the baseline
// gemm_bf16.cc: the rounding of x to bf16.
#pragma once

#include <cstdint>

namespace bertc::cpu {

// x [n, k] rounded to bf16 and padded: xb [n rounded up to 32, kp] with kp = k rounded up to 32,
// zeros in the padding.
void gemm_bf16_round_x(const float* x, int64_t n, int64_t k, uint16_t* xb);

// The same into the calling thread's scratch (ScratchSlot::kCaller), for its team to read.
const uint16_t* gemm_bf16_rounded_x(const float* x, int64_t n, int64_t k);

}  // namespace bertc::cpu
