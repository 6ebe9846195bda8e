// Device helpers shared by the kernels in kernels/cuda: fp32 <-> element type conversion, 16-byte
// vector loads, warp / block sums and the LayerNorm of a row (in shared memory, or in one warp's
// registers). Included only by .cu files.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <library_types.h>

#include <cstdint>
#include <cmath>

namespace bertc::cuda {

// The cuBLAS data type of T.
template <typename T> constexpr cudaDataType_t kCudaType = CUDA_R_32F;
template <> constexpr cudaDataType_t kCudaType<__half> = CUDA_R_16F;
template <> constexpr cudaDataType_t kCudaType<__nv_bfloat16> = CUDA_R_16BF;

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

// Round to nearest even, as bertc's host-side f32_to_f16 / f32_to_bf16 do.
template <typename T> __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ float from_float<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// 16 bytes of T (8 halves or 4 floats): the widest load a thread issues. Elementwise kernels take
// the vector path when a row is a whole number of vectors and the pointers are 16-byte aligned.
template <typename T>
struct alignas(16) Vec16 {
  static constexpr int kSize = 16 / sizeof(T);
  T e[kSize];
};

template <typename T>
__device__ __forceinline__ void load_vec(const T* p, float (&out)[Vec16<T>::kSize]) {
  const Vec16<T> v = *reinterpret_cast<const Vec16<T>*>(p);
#pragma unroll
  for (int i = 0; i < Vec16<T>::kSize; ++i) out[i] = to_float(v.e[i]);
}

template <typename T>
__device__ __forceinline__ void store_vec(T* p, const float (&in)[Vec16<T>::kSize]) {
  Vec16<T> v;
#pragma unroll
  for (int i = 0; i < Vec16<T>::kSize; ++i) v.e[i] = from_float<T>(in[i]);
  *reinterpret_cast<Vec16<T>*>(p) = v;
}

inline bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// Floats of static shared memory that block_sum / block_max need; kernels declare
// `__shared__ float scratch[kBlockScratchFloats]`, and the shared-memory limits below count it.
constexpr int kBlockScratchFloats = 32;

// Sum over the whole block (blockDim.x a multiple of 32, at most 1024); every thread gets the
// result. `scratch` holds 32 floats; the leading __syncthreads lets callers reuse it back to back.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int num_warps = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < num_warps ? scratch[lane] : 0.0f;
  return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int num_warps = blockDim.x >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < num_warps ? scratch[lane] : -INFINITY;
  return warp_max(v);
}

// Grid size for an elementwise kernel over n items: enough blocks to fill the GPU, grid-strided.
inline unsigned elementwise_blocks(int64_t n, int threads) {
  int64_t blocks = (n + threads - 1) / threads;
  if (blocks > 65535 * 8) blocks = 65535 * 8;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}

// Largest row the shared-memory LayerNorm keeps in the default 48 KiB a block may use without
// opting in: the row's floats are dynamic shared memory, next to the kernel's static scratch.
constexpr int64_t kLayerNormMaxCols =
    (48 * 1024 - kBlockScratchFloats * sizeof(float)) / sizeof(float);

// LayerNorm of the fp32 row already in shared memory `row[cols]`, written to `out` as T:
// two passes (mean, then the mean squared deviation) so large offsets do not cancel.
template <typename T>
__device__ __forceinline__ void layer_norm_row(const float* row, int64_t cols,
                                               const T* __restrict__ gamma,
                                               const T* __restrict__ beta, float eps,
                                               T* __restrict__ out, float* scratch) {
  float sum = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) sum += row[c];
  const float mean = block_sum(sum, scratch) / static_cast<float>(cols);
  float sq = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const float d = row[c] - mean;
    sq += d * d;
  }
  const float rstd = rsqrtf(block_sum(sq, scratch) / static_cast<float>(cols) + eps);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
    out[c] = from_float<T>((row[c] - mean) * rstd * to_float(gamma[c]) + to_float(beta[c]));
}

// Rows a warp keeps in registers: kVecs vectors of 16 bytes per lane, so up to 32 * kVecs *
// Vec16<T>::kSize columns (kVecs <= 8: 2048 halves or 1024 floats).
constexpr int kWarpRowMaxVecs = 8;

// LayerNorm of a row that one warp holds in registers, v[i] being the lane's vector i (columns
// (lane + 32 i) * kSize ..), valid where lane + 32 i < vecs and zero elsewhere; written to `out`
// as T. Two passes (mean, then the mean squared deviation), warp shuffles only: no barrier.
template <typename T, int kVecs>
__device__ __forceinline__ void warp_layer_norm_row(float (&v)[kVecs][Vec16<T>::kSize], int vecs,
                                                    int cols, const T* __restrict__ gamma,
                                                    const T* __restrict__ beta, float eps,
                                                    T* out) {
  constexpr int kSize = Vec16<T>::kSize;
  const int lane = threadIdx.x & 31;
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < kVecs; ++i)
#pragma unroll
    for (int j = 0; j < kSize; ++j) sum += v[i][j];
  const float mean = warp_sum(sum) / static_cast<float>(cols);
  float sq = 0.0f;
#pragma unroll
  for (int i = 0; i < kVecs; ++i) {
    if (lane + 32 * i >= vecs) continue;  // the zeros of an absent vector are not deviations
#pragma unroll
    for (int j = 0; j < kSize; ++j) sq += (v[i][j] - mean) * (v[i][j] - mean);
  }
  const float rstd = rsqrtf(warp_sum(sq) / static_cast<float>(cols) + eps);
#pragma unroll
  for (int i = 0; i < kVecs; ++i) {
    const int c = (lane + 32 * i) * kSize;
    if (lane + 32 * i >= vecs) continue;
    float g[kSize], b[kSize], o[kSize];
    load_vec(gamma + c, g);
    load_vec(beta + c, b);
#pragma unroll
    for (int j = 0; j < kSize; ++j) o[j] = (v[i][j] - mean) * rstd * g[j] + b[j];
    store_vec(out + c, o);
  }
}

// Calls f.template operator()<kVecs>() with the smallest kVecs in 1..kWarpRowMaxVecs that holds
// `vecs` vectors per row in one warp; false when the row is wider than that.
template <typename F>
inline bool dispatch_warp_row(int64_t vecs, F&& f) {
  switch ((vecs + 31) / 32) {
    case 1: f.template operator()<1>(); return true;
    case 2: f.template operator()<2>(); return true;
    case 3: f.template operator()<3>(); return true;
    case 4: f.template operator()<4>(); return true;
    case 5: f.template operator()<5>(); return true;
    case 6: f.template operator()<6>(); return true;
    case 7: f.template operator()<7>(); return true;
    case 8: f.template operator()<8>(); return true;
    default: return false;
  }
}

}  // namespace bertc::cuda

// Explicit instantiation of a kernel launcher for the three element types.
#define BERTC_CUDA_INSTANTIATE(macro) \
  macro(float)                        \
  macro(__half)                       \
  macro(__nv_bfloat16)
