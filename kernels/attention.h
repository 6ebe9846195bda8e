// attention: multi-head self-attention over a packed batch (no padding, no mask tensor).
// q, k, v, out: [N, NH*D], head h of token i at columns [h*D, (h+1)*D). For each sequence b
// (tokens cu_seqlens[b] .. cu_seqlens[b+1]-1) and head h:
//   out_h = softmax(q_h k_h^T / sqrt(D)) v_h   over that sequence's own tokens only,
// with the softmax shifted by its row max (stable for any scores). Scale, the implicit mask
// (other sequences are never read) and softmax are fused. Empty sequences write nothing.
// scratch: cpu needs attention_scratch_floats(seq_len_max, omp_get_max_threads()) floats, where
// seq_len_max >= every sequence length, so the forward pass never allocates; ref ignores it.
#pragma once

#include <cstdint>

namespace bertc::ref {
void attention(const float* q, const float* k, const float* v, float* out,
               const int32_t* cu_seqlens, int64_t num_seqs, int64_t num_heads, int64_t head_dim,
               float* scratch);
}  // namespace bertc::ref

namespace bertc::cpu {
// Floats of scratch the cpu attention needs: per thread, 8 rows of scores and one head's K^T
// (heads up to D=128): about 136 * seq_len_max floats, rows padded to 128 bytes.
int64_t attention_scratch_floats(int64_t seq_len_max, int64_t threads);
void attention(const float* q, const float* k, const float* v, float* out,
               const int32_t* cu_seqlens, int64_t num_seqs, int64_t num_heads, int64_t head_dim,
               float* scratch);
}  // namespace bertc::cpu
