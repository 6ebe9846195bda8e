// gemm: the dense layers. y[n, m] = x[n, k] · w[m, k]^T (+ bias[m] when bias is non-null).
// w is in Hugging Face's [out, in] layout (gemm_packed: in the layout gemm_pack made of it).
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
// The portable gemm: Eigen on fixed tiles (kernels/cpu/gemm.cc), w as stored.
void gemm(const float* x, const float* w, const float* bias, float* y, int64_t n, int64_t m,
          int64_t k, Epilogue epilogue = Epilogue::kBias);

// The packed gemm, which the backend runs on every f32 dense layer: each ISA keeps w in a layout
// of its own, made once at load (CpuKernels::gemm_pack, kernels/cpu/cpu_plan.h), and readable by
// its gemm_packed only. The portable layout is w itself ([m, k] copied) and its gemm_packed is
// gemm above; the AVX-512 one is in kernels/cpu/gemm_packed_avx512.cc. Floats the packed form
// of an [m, k] weight needs, packing, and the product (same math and row invariance as gemm).
int64_t gemm_packed_floats(int64_t m, int64_t k);
void gemm_pack(const float* w, int64_t m, int64_t k, float* packed);
void gemm_packed(const float* x, const float* packed, const float* bias, float* y, int64_t n,
                 int64_t m, int64_t k, Epilogue epilogue = Epilogue::kBias);
}  // namespace bertc::cpu
