// The paths behind cpu::gemm_bf16 (kernels/gemm_bf16.h), exposed so that the tests and the
// benchmark can run each one. cpu::gemm_bf16 picks one per process: AMX where the CPU has it and
// the kernel grants the tile state, else AVX512-BF16 (VDPBF16PS) where the CPU has it and runs it
// fast, else the portable loops. Each keeps the row invariance of kernels/gemm_bf16.h; their bits
// differ from each other (the hardware dot products sum a pair of products before adding it), so
// a process never mixes them.
#pragma once

#include <cstdint>

#include "kernels/gemm.h"  // Epilogue

namespace bertc::cpu {

// The path cpu::gemm_bf16 runs in this process: "amx", "avx512bf16" or "portable" (for logs and
// benchmark labels).
const char* gemm_bf16_path_name();

// The AVX512-BF16 and portable paths take x already rounded to bf16 and padded: xb [n rounded up
// to 32, kp] with kp = k rounded up to 32, zeros in the padding (gemm_bf16_round_x).
void gemm_bf16_round_x(const float* x, int64_t n, int64_t k, uint16_t* xb);

// True when this CPU has AMX-BF16 and AMX-TILE, granted or not (CPUID).
bool cpu_has_amx_bf16();

// True when this CPU has AMX-BF16 and Linux granted this process the AMX tile state
// (arch_prctl ARCH_REQ_XCOMP_PERM, asked once).
bool has_amx_bf16();

// True when this CPU has AVX-512F and AVX512-BF16 (checked once with __builtin_cpu_supports).
bool has_avx512_bf16();

// Any CPU: fp32 multiply-adds on the vectors -march gives, on x and w widened from bf16 per task.
void gemm_bf16_portable(const uint16_t* xb, const uint16_t* w_packed, const float* bias, float* y,
                        int64_t n, int64_t m, int64_t k, Epilogue epilogue = Epilogue::kBias);
// Callers check has_amx_bf16() first. Takes x itself (fp32): it rounds x straight into its tiles.
void gemm_bf16_amx(const float* x, const uint16_t* w_packed, const float* bias, float* y,
                   int64_t n, int64_t m, int64_t k, Epilogue epilogue = Epilogue::kBias);
// Callers check has_avx512_bf16() first.
void gemm_bf16_avx512(const uint16_t* xb, const uint16_t* w_packed, const float* bias, float* y,
                      int64_t n, int64_t m, int64_t k, Epilogue epilogue = Epilogue::kBias);

// rows x cols of y (row stride m) from a [32, 32] block of fp32 sums (row stride 32), with the
// bias added and the epilogue applied: the shared ending of the paths.
void gemm_bf16_store(const float* sums, const float* bias, float* y, int64_t m, int64_t rows,
                     int64_t cols, Epilogue epilogue);

}  // namespace bertc::cpu
