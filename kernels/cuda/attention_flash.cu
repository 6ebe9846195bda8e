// Fused attention on tensor cores for f16/bf16 (FlashAttention-2 style, see kernels.h): per block
// 64 queries of one sequence and head (16 per warp), keys and values in tiles of 64 through
// double-buffered shared memory, S = Q K^T and O += P V with mma.sync m16n8k16 (fp32
// accumulators), an online softmax in registers. Checked against bertc::ref::attention in
// tests/kernels/attention_cuda_test.cc (D = 32 and 64, mixed lengths, batch invariance).
//
// Fragment layouts (PTX ISA, mma.m16n8k16 with .f16/.bf16 inputs), g = lane / 4, t = lane % 4:
//   A 16x16 (row-major): regs {a0a1, a2a3, a4a5, a6a7} = (g, 2t..), (g+8, 2t..), (g, 8+2t..),
//                        (g+8, 8+2t..)      [row, column]
//   B 16x8 (k x n):      regs {b0b1, b2b3} = (k 2t.., n g), (k 8+2t.., n g)
//   C 16x8 fp32:         c0 c1 = (g, 2t), (g, 2t+1); c2 c3 = (g+8, 2t), (g+8, 2t+1)
// so the C fragments of two neighbouring 8-key score tiles are, rounded to 16 bits, the A fragment
// of P for one 16-key step of P V: the probabilities never leave registers.
#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace bertc::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kBlockQueries = 16 * kWarps;  // 64
constexpr int kTileKeys = 64;

__device__ __forceinline__ unsigned smem_address(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

// 16 bytes global -> shared, asynchronous; src_bytes = 0 writes zeros (rows past the sequence).
__device__ __forceinline__ void cp_async16(void* dst, const void* src, int src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_address(dst)),
               "l"(src), "r"(src_bytes)
               : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
// Waits until at most `kPending` of this thread's committed groups are still in flight.
template <int kPending>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending) : "memory");
}

__device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_address(p))
               : "memory");
}
__device__ __forceinline__ void ldmatrix_x4_trans(unsigned (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_address(p))
               : "memory");
}

// c += a · b on one 16x8x16 tile.
template <typename T>
__device__ __forceinline__ void mma16816(float (&c)[4], const unsigned (&a)[4], unsigned b0,
                                         unsigned b1);
template <>
__device__ __forceinline__ void mma16816<__half>(float (&c)[4], const unsigned (&a)[4],
                                                 unsigned b0, unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
template <>
__device__ __forceinline__ void mma16816<__nv_bfloat16>(float (&c)[4], const unsigned (&a)[4],
                                                        unsigned b0, unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two floats rounded to T, `lo` in the low 16 bits (the lower column of a fragment pair).
template <typename T>
__device__ __forceinline__ unsigned pack2(float lo, float hi);
template <>
__device__ __forceinline__ unsigned pack2<__half>(float lo, float hi) {
  const __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const unsigned*>(&h);
}
template <>
__device__ __forceinline__ unsigned pack2<__nv_bfloat16>(float lo, float hi) {
  const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const unsigned*>(&h);
}

// grid (query tiles of 64, heads, sequences). kStride pads each shared row by 16 bytes so the 8
// row addresses of an ldmatrix fall in 8 different groups of 4 banks.
template <typename T, int kD>
__global__ void __launch_bounds__(kThreads)
    attention_flash_kernel(const T* __restrict__ q, const T* __restrict__ k,
                           const T* __restrict__ v, T* __restrict__ out,
                           const int32_t* __restrict__ cu_seqlens, float scale_log2) {
  static_assert(kD % 32 == 0 && kD <= 64, "head dims 32 and 64");
  constexpr int kStride = kD + 8;
  constexpr int kChunks = kD / 8;  // 16-byte pieces per row
  __shared__ alignas(16) T sq[kBlockQueries * kStride];
  __shared__ alignas(16) T sk[2][kTileKeys * kStride];
  __shared__ alignas(16) T sv[2][kTileKeys * kStride];

  const int begin = cu_seqlens[blockIdx.z];
  const int len = cu_seqlens[blockIdx.z + 1] - begin;
  const int q0 = blockIdx.x * kBlockQueries;
  if (q0 >= len) return;
  const int64_t hidden = int64_t{gridDim.y} * kD;
  const int64_t head = int64_t{blockIdx.y} * kD;
  const T* qs = q + int64_t{begin} * hidden + head;  // row r of this sequence and head: + r * hidden
  const T* ks = k + int64_t{begin} * hidden + head;
  const T* vs = v + int64_t{begin} * hidden + head;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;

  // Rows past the sequence are zero-filled (and their source address kept inside it).
  auto load_rows = [&](T* dst, const T* src, int row0) {
    for (int c = tid; c < 64 * kChunks; c += kThreads) {
      const int r = c / kChunks, col = (c % kChunks) * 8;
      const bool valid = row0 + r < len;
      cp_async16(dst + r * kStride + col, src + (valid ? int64_t{row0 + r} * hidden + col : 0),
                 valid ? 16 : 0);
    }
  };
  load_rows(sq, qs, q0);
  cp_async_commit();
  const int tiles = (len + kTileKeys - 1) / kTileKeys;
  load_rows(sk[0], ks, 0);
  load_rows(sv[0], vs, 0);
  cp_async_commit();

  unsigned qf[kD / 16][4];  // this warp's 16 queries as A fragments, one per 16 of D
  float o[kD / 8][4];       // output accumulators: 16 rows x D
#pragma unroll
  for (int i = 0; i < kD / 8; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
  float row_max[2] = {-INFINITY, -INFINITY};  // rows g and g + 8, in log2 units
  float row_sum[2] = {0.0f, 0.0f};            // this thread's share of each row's sum

  for (int t = 0; t < tiles; ++t) {
    const int buf = t & 1;
    if (t + 1 < tiles) {  // prefetch the next tile into the other buffer (free since t - 1)
      load_rows(sk[buf ^ 1], ks, (t + 1) * kTileKeys);
      load_rows(sv[buf ^ 1], vs, (t + 1) * kTileKeys);
    }
    cp_async_commit();  // possibly empty: keeps "all but the newest group" = Q and tile t
    cp_async_wait<1>();
    __syncthreads();
    if (t == 0) {
#pragma unroll
      for (int kk = 0; kk < kD / 16; ++kk)
        ldmatrix_x4(qf[kk], sq + (warp * 16 + (lane & 15)) * kStride + kk * 16 + (lane >> 4) * 8);
    }

    // S = Q K^T for 64 keys: 8 tiles of 8 keys, accumulators [8][4].
    float s[8][4];
#pragma unroll
    for (int nt = 0; nt < 8; ++nt) {
      s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.0f;
#pragma unroll
      for (int kp = 0; kp < kD / 32; ++kp) {  // two 16-wide steps of D per ldmatrix.x4
        unsigned b[4];
        ldmatrix_x4(b, sk[buf] + (nt * 8 + (lane & 7)) * kStride + kp * 32 + (lane >> 3) * 8);
        mma16816<T>(s[nt], qf[2 * kp], b[0], b[1]);
        mma16816<T>(s[nt], qf[2 * kp + 1], b[2], b[3]);
      }
    }

    // Online softmax in log2 units; keys past the sequence are -inf (only in the last tile).
    const int key0 = t * kTileKeys + 2 * (lane & 3);
    float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int nt = 0; nt < 8; ++nt) {
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const bool valid = key0 + nt * 8 + (j & 1) < len;
        s[nt][j] = valid ? s[nt][j] * scale_log2 : -INFINITY;
        tile_max[j >> 1] = fmaxf(tile_max[j >> 1], s[nt][j]);
      }
    }
    float correction[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      // The 4 threads of a quad hold one row between them.
      tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 1));
      tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 2));
      // Every tile holds at least one key of the sequence, so the new maximum is finite.
      const float new_max = fmaxf(row_max[r], tile_max[r]);
      correction[r] = exp2f(row_max[r] - new_max);  // 0 on the first tile (-inf - finite)
      row_max[r] = new_max;
      row_sum[r] *= correction[r];
    }
#pragma unroll
    for (int i = 0; i < kD / 8; ++i) {
      o[i][0] *= correction[0];
      o[i][1] *= correction[0];
      o[i][2] *= correction[1];
      o[i][3] *= correction[1];
    }
#pragma unroll
    for (int nt = 0; nt < 8; ++nt) {
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        s[nt][j] = exp2f(s[nt][j] - row_max[j >> 1]);
        row_sum[j >> 1] += s[nt][j];
      }
    }

    // O += P V: 4 steps of 16 keys; V fragments by transposing loads (keys are V's rows).
#pragma unroll
    for (int ks16 = 0; ks16 < 4; ++ks16) {
      const unsigned a[4] = {pack2<T>(s[2 * ks16][0], s[2 * ks16][1]),
                             pack2<T>(s[2 * ks16][2], s[2 * ks16][3]),
                             pack2<T>(s[2 * ks16 + 1][0], s[2 * ks16 + 1][1]),
                             pack2<T>(s[2 * ks16 + 1][2], s[2 * ks16 + 1][3])};
#pragma unroll
      for (int dp = 0; dp < kD / 16; ++dp) {
        unsigned b[4];
        ldmatrix_x4_trans(b, sv[buf] + (ks16 * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * kStride +
                                 dp * 16 + (lane >> 4) * 8);
        mma16816<T>(o[2 * dp], a, b[0], b[1]);
        mma16816<T>(o[2 * dp + 1], a, b[2], b[3]);
      }
    }
    __syncthreads();  // every warp is done with tile t before its buffer is refilled
  }

  // Each row's sum over its quad, then out = O / sum for the rows inside the sequence.
  float inv[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    row_sum[r] += __shfl_xor_sync(0xffffffffu, row_sum[r], 1);
    row_sum[r] += __shfl_xor_sync(0xffffffffu, row_sum[r], 2);
    inv[r] = 1.0f / row_sum[r];
  }
  const int row = q0 + warp * 16 + (lane >> 2);
  T* os = out + int64_t{begin} * hidden + head + 2 * (lane & 3);
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    if (row + 8 * r >= len) continue;
    T* dst = os + int64_t{row + 8 * r} * hidden;
#pragma unroll
    for (int i = 0; i < kD / 8; ++i)
      *reinterpret_cast<unsigned*>(dst + i * 8) =
          pack2<T>(o[i][2 * r] * inv[r], o[i][2 * r + 1] * inv[r]);
  }
}

template <typename T, int kD>
void launch_flash(const T* q, const T* k, const T* v, T* out, const int32_t* cu_seqlens,
                  int64_t num_seqs, int64_t seq_len_max, int64_t num_heads, cudaStream_t stream) {
  const float scale_log2 = 1.4426950408889634f / sqrtf(static_cast<float>(kD));  // log2(e) / sqrt(D)
  const dim3 grid(static_cast<unsigned>((seq_len_max + kBlockQueries - 1) / kBlockQueries),
                  static_cast<unsigned>(num_heads), static_cast<unsigned>(num_seqs));
  attention_flash_kernel<T, kD><<<grid, kThreads, 0, stream>>>(q, k, v, out, cu_seqlens, scale_log2);
  BERTC_CUDA_LAUNCH_CHECK(stream, "attention_flash_kernel");
}

}  // namespace

bool attention_flash_supported(int64_t head_dim, size_t elem_bytes) {
  return elem_bytes == 2 && (head_dim == 32 || head_dim == 64);
}

template <typename T>
void attention_flash(const T* q, const T* k, const T* v, T* out, const int32_t* cu_seqlens,
                     int64_t num_seqs, int64_t seq_len_max, int64_t num_heads, int64_t head_dim,
                     cudaStream_t stream) {
  if (num_seqs == 0 || num_heads == 0) return;
  BERTC_CHECK(num_heads <= 65535 && num_seqs <= 65535, "attention: ", num_heads, " heads x ",
              num_seqs, " sequences exceed the CUDA grid");
  if constexpr (sizeof(T) == 2) {
    if (head_dim == 32) return launch_flash<T, 32>(q, k, v, out, cu_seqlens, num_seqs, seq_len_max, num_heads, stream);
    if (head_dim == 64) return launch_flash<T, 64>(q, k, v, out, cu_seqlens, num_seqs, seq_len_max, num_heads, stream);
  }
  BERTC_FAIL("attention: the flash kernel has no variant for head dim ", head_dim, " and ",
             sizeof(T) * 8, "-bit values (see attention_flash_supported)");
}

#define BERTC_INSTANTIATE_ATTENTION_FLASH(T)                                                    \
  template void attention_flash<T>(const T*, const T*, const T*, T*, const int32_t*, int64_t, \
                                   int64_t, int64_t, int64_t, cudaStream_t);
BERTC_CUDA_INSTANTIATE(BERTC_INSTANTIATE_ATTENTION_FLASH)

}  // namespace bertc::cuda
