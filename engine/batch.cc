// PackedBatch::add: appends one tokenized sequence to the packed batch (see engine/batch.h).
#include "engine/batch.h"

#include <algorithm>
#include <limits>

#include "common/error.h"

namespace bertc {

void PackedBatch::add(const std::vector<int32_t>& ids, const std::vector<int32_t>& type_ids) {
  // An empty sequence has no [CLS] and no mean; the tokenizer always emits [CLS] ... [SEP].
  BERTC_CHECK(!ids.empty(), "batch: sequence ", num_seqs(), " is empty (expected at least [CLS] and [SEP])");
  BERTC_CHECK(type_ids.empty() || type_ids.size() == ids.size(), "batch: sequence ", num_seqs(),
              " has ", type_ids.size(), " token type ids for ", ids.size(), " tokens");
  // cu_seqlens and position ids are int32 (as the kernels read them).
  BERTC_CHECK(input_ids.size() + ids.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()),
              "batch: ", input_ids.size() + ids.size(), " tokens exceed the int32 limit of a packed batch");
  if (cu_seqlens.empty()) cu_seqlens.push_back(0);
  input_ids.insert(input_ids.end(), ids.begin(), ids.end());
  if (type_ids.empty()) {
    token_type_ids.insert(token_type_ids.end(), ids.size(), 0);
  } else {
    token_type_ids.insert(token_type_ids.end(), type_ids.begin(), type_ids.end());
  }
  const auto len = static_cast<int32_t>(ids.size());
  for (int32_t p = 0; p < len; ++p) position_ids.push_back(p);
  cu_seqlens.push_back(static_cast<int32_t>(input_ids.size()));
  seq_len_max = std::max(seq_len_max, len);
}

}  // namespace bertc
