// Embedding outputs for the CLI: .npy (float32 [N, H]), JSON lines ({"index", "<mode>": [...]})
// and TSV (one row of values per input). Floats are printed in their shortest round-trip form.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace bertc {

enum class OutputFormat { kNpy, kJsonl, kTsv };

// "npy" | "jsonl" | "tsv"; throws UsageError otherwise.
OutputFormat parse_output_format(const std::string& name);
// From the extension of `path` (.npy, .jsonl/.json, .tsv); jsonl when unknown or empty.
OutputFormat output_format_for(const std::string& path);

// One named matrix [rows, dim] (a pooling mode's embeddings), or with `ragged` one [T_r, dim]
// matrix per row (per-token states; jsonl only).
struct NamedMatrix {
  std::string name;
  const std::vector<float>* data = nullptr;
  const std::vector<std::vector<float>>* ragged = nullptr;
};

// JSON lines, one object per row with every matrix under its name.
void write_jsonl(std::FILE* out, const std::vector<NamedMatrix>& mats, int64_t rows, int64_t dim);
// TSV: one line per row, dim tab-separated values (one matrix).
void write_tsv(std::FILE* out, const std::vector<float>& mat, int64_t rows, int64_t dim);

// Writes `mats` to `path` (or stdout when empty) in `format`, atomically for files. Several
// matrices in npy or tsv go to PATH_STEM.<name>.<ext> each; to stdout they need jsonl.
// Returns the paths written.
std::vector<std::string> write_embeddings(const std::string& path, OutputFormat format,
                                          const std::vector<NamedMatrix>& mats, int64_t rows,
                                          int64_t dim);

}  // namespace bertc
