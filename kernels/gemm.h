// gemm: the dense layers. y[n, m] = x[n, k] · w[m, k]^T (+ bias[m] when bias is non-null).
// w keeps Hugging Face's [out, in] layout, so no weight is ever transposed or copied.
// Row r of y depends only on row r of x (never on n or on the other rows, nor on the thread
// count): bertc requires a text to embed to the same bits alone or inside any batch.
// n == 0 writes nothing; k == 0 gives y = bias (or 0).
#pragma once

#include <cstdint>

namespace bertc {
// What the cpu gemms do to each output after its dot product: add the bias (when given), then for
// kBiasGelu apply the FFN's GELU (cpu::gelu_block) while the block of y is still in cache
// instead of in a second pass over [N, I] (kernels/bias_gelu.h: the same bits either way).
enum class Epilogue { kBias, kBiasGelu };
}  // namespace bertc

namespace bertc::ref {
void gemm(const float* x, const float* w, const float* bias, float* y, int64_t n, int64_t m,
          int64_t k);
}  // namespace bertc::ref

namespace bertc::cpu {
void gemm(const float* x, const float* w, const float* bias, float* y, int64_t n, int64_t m,
          int64_t k, Epilogue epilogue = Epilogue::kBias);

// The packed fp32 gemm (kernels/cpu/gemm_packed.cc): w packed once at load into panels of 32
// output columns, each [k][32] (k-major, m padded to 32 with zero columns), so the kernel
// multiplies broadcast x values into whole rows of a panel (no reductions) and streams each
// panel from contiguous memory. Same math and row invariance as gemm; other bits.
int64_t gemm_packed_floats(int64_t m, int64_t k);
void gemm_pack(const float* w, int64_t m, int64_t k, float* packed);
// True where gemm_packed runs: AVX-512F, and BERTC_GEMM is neither "eigen" nor "avx512" (read once).
bool gemm_packed_available();
void gemm_packed(const float* x, const float* packed, const float* bias, float* y, int64_t n,
                 int64_t m, int64_t k, Epilogue epilogue = Epilogue::kBias);
}  // namespace bertc::cpu
