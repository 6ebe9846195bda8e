// pooling: one vector per sequence from the packed hidden states hidden[N, H] -> out[B, H].
//   kCls:  the sequence's first token ([CLS]); kPooled selects the same token (BertModel then
//          applies the pooler dense + tanh);
//   kMean: the mean over all of the sequence's tokens, [CLS] and [SEP] included (what
//          sentence-transformers does with an all-ones attention mask);
//   kMax:  the elementwise max over the sequence's tokens.
// Sequences must be non-empty (Backend::begin_batch rejects empty ones).
#pragma once

#include <cstdint>

namespace bertc {
// How a sequence becomes one vector; the CLI uses the same words (--pool pooled|mean|cls|max).
enum class PoolMode { kPooled, kMean, kCls, kMax };
}  // namespace bertc

namespace bertc::ref {
void pool(const float* hidden, const int32_t* cu_seqlens, int64_t num_seqs, int64_t hidden_size,
          PoolMode mode, float* out);
}  // namespace bertc::ref

namespace bertc::cpu {
void pool(const float* hidden, const int32_t* cu_seqlens, int64_t num_seqs, int64_t hidden_size,
          PoolMode mode, float* out);
}  // namespace bertc::cpu
