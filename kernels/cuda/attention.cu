// Attention over the packed batch (no padding), fp32 SIMT: scale + softmax + AV with fp32 scores
// in shared memory, fp32 throughout. These are the reference CUDA kernels, kept behind their tests
// for f32 runs and as the baseline the tensor-core paths (attention_gemm.cu, attention_flash.cu)
// are measured against. Two kernels, chosen per sequence by its own length (so a sequence's bits
// never depend on the batch around it): a tiled one (16 queries of one sequence and head per
// block, keys and values staged through shared memory and reused by all 16) for sequences whose
// [16, len] scores fit in shared memory with D <= 128 (BERT: T <= 512), and a per-(token, head)
// kernel for the longer ones. Checked against bertc::ref::attention in
// tests/kernels/attention_cuda_test.cc (mixed lengths on both sides of the switch in one batch).
#include <algorithm>

#include "kernels/cuda/check.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace bertc::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int64_t kMaxSeqLen = 8192;  // 32 KiB of fp32 scores
constexpr int64_t kMaxHeadDim = 1024;
constexpr int kTileQueries = 16;     // queries per block in the tiled kernel
constexpr int kTileKeys = 32;        // keys (or values) staged in shared memory at a time
constexpr int kTileMaxHeadDim = 128;
constexpr size_t kSharedBytes = 48 * 1024;  // the default per-block limit, no opt-in needed

size_t tiled_smem_bytes(int64_t score_stride, int64_t head_dim) {
  // Q tile [16, D], K/V chunk [32, D + 1] (padded: threads of a warp read 32 different rows),
  // scores [16, score_stride], 1/sum per query.
  return sizeof(float) * (kTileQueries * head_dim + kTileKeys * (head_dim + 1) +
                          kTileQueries * score_stride + kTileQueries);
}

// The longest sequence the tiled kernel takes at this head dim (0: none, D > 128).
int64_t tiled_len_limit(int64_t head_dim) {
  if (head_dim > kTileMaxHeadDim) return 0;
  const int64_t fixed = tiled_smem_bytes(0, head_dim);
  return (static_cast<int64_t>(kSharedBytes) - fixed) / (kTileQueries * int64_t{sizeof(float)});
}

// grid (query tile, head, sequence); a tile past its sequence's end returns at once, and so does
// every block of a sequence longer than score_stride (the per-token kernel's). Every block reads
// only its own sequence's keys, so the packing needs no mask. Index math is 32-bit: a row of one
// head has at most 128 values and a tile 16 rows.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    attention_tiled_kernel(const T* __restrict__ q, const T* __restrict__ k,
                           const T* __restrict__ v, T* __restrict__ out,
                           const int32_t* __restrict__ cu_seqlens, int head_dim,
                           int score_stride, float scale) {
  extern __shared__ float smem[];
  float* q_tile = smem;                                   // [16, D]
  float* kv = q_tile + kTileQueries * head_dim;           // [32, D + 1]
  float* scores = kv + kTileKeys * (head_dim + 1);        // [16, score_stride]
  float* inv_sum = scores + kTileQueries * score_stride;  // [16]

  const int64_t begin = cu_seqlens[blockIdx.z];
  const int len = cu_seqlens[blockIdx.z + 1] - static_cast<int32_t>(begin);
  const int first = blockIdx.x * kTileQueries;  // first query of the tile
  if (first >= len || len > score_stride) return;
  const int rows = min(kTileQueries, len - first);
  const int64_t row_stride = int64_t{gridDim.y} * head_dim;  // NH * D
  const int64_t head_offset = int64_t{blockIdx.y} * head_dim;
  const int dp = head_dim + 1;

  for (int i = threadIdx.x; i < kTileQueries * head_dim; i += blockDim.x) {
    const int r = i / head_dim, d = i - r * head_dim;
    q_tile[i] = r < rows ? to_float(q[(begin + first + r) * row_stride + head_offset + d]) : 0.0f;
  }

  // Scores, 32 keys at a time: thread t scores key t % 32 against queries t / 32, + 4, + 8, ...
  const int key_in_chunk = threadIdx.x % kTileKeys;
  const int row_step = blockDim.x / kTileKeys;
  for (int chunk = 0; chunk < len; chunk += kTileKeys) {
    const int keys = min(kTileKeys, len - chunk);
    __syncthreads();  // the previous chunk is consumed (and q_tile written, the first time)
    for (int i = threadIdx.x; i < keys * head_dim; i += blockDim.x) {
      const int j = i / head_dim, d = i - j * head_dim;
      kv[j * dp + d] = to_float(k[(begin + chunk + j) * row_stride + head_offset + d]);
    }
    __syncthreads();
    if (key_in_chunk < keys) {
      for (int r = threadIdx.x / kTileKeys; r < rows; r += row_step) {
        float dot = 0.0f;
        for (int d = 0; d < head_dim; ++d) dot += q_tile[r * head_dim + d] * kv[key_in_chunk * dp + d];
        scores[r * score_stride + chunk + key_in_chunk] = dot * scale;
      }
    }
  }
  __syncthreads();

  // Softmax per query row, one warp per row, stabilised by the row maximum; p stays unnormalised
  // and 1/sum is applied to the output.
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  for (int r = warp; r < rows; r += blockDim.x >> 5) {
    float* row = scores + r * score_stride;
    float row_max = -INFINITY;
    for (int j = lane; j < len; j += 32) row_max = fmaxf(row_max, row[j]);
    row_max = warp_max(row_max);
    float sum = 0.0f;
    for (int j = lane; j < len; j += 32) {
      const float e = expf(row[j] - row_max);
      row[j] = e;
      sum += e;
    }
    sum = warp_sum(sum);
    if (lane == 0) inv_sum[r] = 1.0f / sum;
  }

  // AV: each thread owns outputs o = t, t + 128, ... of the [16, D] tile (row and column worked
  // out once), values staged 32 rows at a time (consecutive threads read consecutive columns).
  constexpr int kOutPerThread = kTileQueries * kTileMaxHeadDim / kThreads;
  float acc[kOutPerThread];
  int out_row[kOutPerThread], out_col[kOutPerThread];
#pragma unroll
  for (int i = 0; i < kOutPerThread; ++i) {
    acc[i] = 0.0f;
    const int o = threadIdx.x + i * kThreads;
    out_row[i] = o / head_dim;
    out_col[i] = o - out_row[i] * head_dim;
  }
  for (int chunk = 0; chunk < len; chunk += kTileKeys) {
    const int keys = min(kTileKeys, len - chunk);
    __syncthreads();  // scores are final (first chunk) / the previous values are consumed
    for (int i = threadIdx.x; i < keys * head_dim; i += blockDim.x) {
      const int j = i / head_dim, d = i - j * head_dim;
      kv[j * dp + d] = to_float(v[(begin + chunk + j) * row_stride + head_offset + d]);
    }
    __syncthreads();
#pragma unroll
    for (int i = 0; i < kOutPerThread; ++i) {
      if (out_row[i] < rows) {
        const float* p = scores + out_row[i] * score_stride + chunk;
        for (int j = 0; j < keys; ++j) acc[i] += p[j] * kv[j * dp + out_col[i]];
      }
    }
  }
#pragma unroll
  for (int i = 0; i < kOutPerThread; ++i) {
    if (out_row[i] < rows)
      out[(begin + first + out_row[i]) * row_stride + head_offset + out_col[i]] =
          from_float<T>(acc[i] * inv_sum[out_row[i]]);
  }
}

// grid (token, head). Each block finds its sequence in cu_seqlens, so a token only ever sees the
// keys of its own sequence: the packing needs no mask. Tokens of sequences of at most
// tiled_limit tokens return at once (the tiled kernel's).
template <typename T>
__global__ void __launch_bounds__(kThreads)
    attention_kernel(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                     T* __restrict__ out, const int32_t* __restrict__ cu_seqlens,
                     int num_seqs, int head_dim, int seq_len_max, int tiled_limit, float scale) {
  extern __shared__ float smem[];
  float* scores = smem;                   // [seq_len_max]
  float* q_row = scores + seq_len_max;    // [D]
  float* partial = q_row + head_dim;      // [groups, D]
  __shared__ float scratch[kBlockScratchFloats];

  const int token = blockIdx.x;
  const int64_t row_stride = int64_t{gridDim.y} * head_dim;  // NH * D
  const int64_t head_offset = int64_t{blockIdx.y} * head_dim;
  int lo = 0, hi = num_seqs;  // largest b with cu_seqlens[b] <= token
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (cu_seqlens[mid] <= token) lo = mid; else hi = mid;
  }
  const int64_t begin = cu_seqlens[lo];
  const int len = cu_seqlens[lo + 1] - static_cast<int32_t>(begin);
  if (len <= tiled_limit) return;

  for (int d = threadIdx.x; d < head_dim; d += blockDim.x)
    q_row[d] = to_float(q[token * row_stride + head_offset + d]);
  __syncthreads();

  // Scores: one warp per key, lanes split the head dimension (coalesced reads of the key row).
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int num_warps = blockDim.x >> 5;
  for (int j = warp; j < len; j += num_warps) {
    const T* key = k + (begin + j) * row_stride + head_offset;
    float dot = 0.0f;
    for (int d = lane; d < head_dim; d += 32) dot += q_row[d] * to_float(key[d]);
    dot = warp_sum(dot);
    if (lane == 0) scores[j] = dot * scale;
  }
  __syncthreads();

  // Softmax, stabilised by the row maximum; the sequence always holds the token itself, so the
  // row is never empty and the sum is at least 1.
  float row_max = -INFINITY;
  for (int j = threadIdx.x; j < len; j += blockDim.x) row_max = fmaxf(row_max, scores[j]);
  row_max = block_max(row_max, scratch);
  float sum = 0.0f;
  for (int j = threadIdx.x; j < len; j += blockDim.x) {
    const float e = expf(scores[j] - row_max);
    scores[j] = e;
    sum += e;
  }
  const float inv_sum = 1.0f / block_sum(sum, scratch);  // block_sum syncs: scores are visible

  // AV: the block splits into `groups` sets of D threads, each summing every groups-th key;
  // consecutive threads read consecutive elements of a value row. Thread t's group and column
  // are worked out once.
  const int groups = head_dim < static_cast<int>(blockDim.x) ? blockDim.x / head_dim : 1;
  for (int idx = threadIdx.x; idx < groups * head_dim; idx += blockDim.x) {
    const int g = idx / head_dim;
    const int d = idx - g * head_dim;
    float acc = 0.0f;
    for (int j = g; j < len; j += groups)
      acc += scores[j] * to_float(v[(begin + j) * row_stride + head_offset + d]);
    partial[idx] = acc;
  }
  __syncthreads();
  for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
    float acc = 0.0f;
    for (int g = 0; g < groups; ++g) acc += partial[g * head_dim + d];
    out[token * row_stride + head_offset + d] = from_float<T>(acc * inv_sum);
  }
}

}  // namespace

int64_t attention_seq_len_limit() { return kMaxSeqLen; }

int64_t attention_simt_tiled_len_limit(int64_t head_dim) { return tiled_len_limit(head_dim); }

template <typename T>
void attention_simt(const T* q, const T* k, const T* v, T* out, const int32_t* cu_seqlens,
                    int64_t num_seqs, int64_t n, int64_t seq_len_max, int64_t num_heads,
                    int64_t head_dim, cudaStream_t stream) {
  if (n == 0 || num_heads == 0 || head_dim == 0) return;
  BERTC_CHECK(seq_len_max <= kMaxSeqLen, "attention: sequence length ", seq_len_max,
              " exceeds the CUDA kernel's limit of ", kMaxSeqLen);
  BERTC_CHECK(head_dim <= kMaxHeadDim, "attention: head dim ", head_dim,
              " exceeds the CUDA kernel's limit of ", kMaxHeadDim);
  BERTC_CHECK(n <= 0x7fffffff && num_heads <= 65535 && num_seqs <= 65535, "attention: ", n,
              " tokens x ", num_heads, " heads in ", num_seqs, " sequences exceed the CUDA grid");
  const float scale = 1.0f / sqrtf(static_cast<float>(head_dim));
  const int64_t tiled_limit = tiled_len_limit(head_dim);
  const int64_t score_stride = std::min(seq_len_max, tiled_limit);
  if (score_stride > 0) {
    const dim3 grid(static_cast<unsigned>((score_stride + kTileQueries - 1) / kTileQueries),
                    static_cast<unsigned>(num_heads), static_cast<unsigned>(num_seqs));
    attention_tiled_kernel<T><<<grid, kThreads, tiled_smem_bytes(score_stride, head_dim), stream>>>(
        q, k, v, out, cu_seqlens, static_cast<int>(head_dim), static_cast<int>(score_stride),
        scale);
    BERTC_CUDA_LAUNCH_CHECK(stream, "attention_tiled_kernel");
  }
  if (seq_len_max <= tiled_limit) return;  // no sequence is left for the per-token kernel
  const int64_t groups = head_dim < kThreads ? kThreads / head_dim : 1;
  const size_t smem_bytes = (seq_len_max + head_dim + groups * head_dim) * sizeof(float);
  const dim3 grid(static_cast<unsigned>(n), static_cast<unsigned>(num_heads));
  attention_kernel<T><<<grid, kThreads, smem_bytes, stream>>>(
      q, k, v, out, cu_seqlens, static_cast<int>(num_seqs), static_cast<int>(head_dim),
      static_cast<int>(seq_len_max), static_cast<int>(tiled_limit), scale);
  BERTC_CUDA_LAUNCH_CHECK(stream, "attention_kernel");
}

#define BERTC_INSTANTIATE_ATTENTION(T)                                                        \
  template void attention_simt<T>(const T*, const T*, const T*, T*, const int32_t*, int64_t, int64_t, \
                             int64_t, int64_t, int64_t, cudaStream_t);
BERTC_CUDA_INSTANTIATE(BERTC_INSTANTIATE_ATTENTION)

}  // namespace bertc::cuda
