// Reference bundles (tests/data/models/*/ref_*, tools/make_reference.py): load inputs.json and
// the .npy outputs, run the same ids through a BertModel, and compare only real (unpadded)
// positions. Used by `bertc validate` and the parity tests in tests/engine/bert_test.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/bert.h"
#include "weights/model_file.h"

namespace bertc {

struct ReferenceBundle {
  std::string dir;
  std::vector<std::vector<int32_t>> input_ids;       // per row, unpadded (lengths[b] ids)
  std::vector<std::vector<int32_t>> token_type_ids;  // per row, unpadded
  std::vector<std::vector<std::string>> tokens;      // wordpieces, when inputs.json has them
  std::vector<std::string> sentences;
  int64_t st_max_seq_length = 0;  // sentence-transformers truncation, 0 when absent
};

// Throws bertc::Error naming the file and the problem.
ReferenceBundle load_reference(const std::string& dir);

struct OutputDiff {
  std::string name;        // file stem: hidden_states_2, pooler_output, st_embedding, ...
  int64_t rows = 0;        // vectors compared (real token positions or sequences)
  double max_abs = 0;      // max |got - want|
  double max_rel = 0;      // max_abs / max |want| over the output
  double min_cosine = 1;   // worst row
  int64_t worst_row = -1;  // sequence index of the max abs difference
  double atol = 0;              // the tolerances it was held to
  double min_cosine_bound = 0;
  bool ok() const { return max_abs <= atol && min_cosine >= min_cosine_bound; }
};

struct ValidateOptions {
  double atol_hidden = 1e-4;   // hidden states: LayerNorm outputs of magnitude up to ~5
  double atol_pooled = 1e-5;   // pooler_output, cls, mean_pooled, st_embedding
  double min_cosine = 0.99999;
};

// Runs every output the bundle has (hidden_states_K, last_hidden_state, pooler_output, cls,
// mean_pooled, and st_embedding with the model's pooling config at its max_seq_length).
std::vector<OutputDiff> validate_reference(BertModel& model, const ReferenceBundle& bundle,
                                           const std::optional<PoolingConfig>& pooling,
                                           const ValidateOptions& options);

}  // namespace bertc
