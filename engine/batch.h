// PackedBatch: the tokens of B sequences concatenated with no padding, [N] each, plus
// cu_seqlens[B+1] (cu_seqlens[b] = first token of sequence b, cu_seqlens[B] = N). GEMMs and
// LayerNorm see only the N real tokens; attention and pooling read the lengths.
#pragma once

#include <cstdint>
#include <vector>

namespace bertc {

struct PackedBatch {
  std::vector<int32_t> input_ids;       // [N]
  std::vector<int32_t> token_type_ids;  // [N]
  std::vector<int32_t> position_ids;    // [N], 0..T_b-1 within each sequence
  std::vector<int32_t> cu_seqlens;      // [B+1]
  int32_t seq_len_max = 0;              // max T over the batch

  int64_t num_tokens() const { return static_cast<int64_t>(input_ids.size()); }
  int64_t num_seqs() const { return cu_seqlens.empty() ? 0 : static_cast<int64_t>(cu_seqlens.size()) - 1; }

  // Appends one sequence (ids with specials, type ids of the same length or empty for all-zero).
  void add(const std::vector<int32_t>& ids, const std::vector<int32_t>& type_ids);
};

}  // namespace bertc
