// Outputs of the CLI: choosing a format from --format and the output's extension (one rule for
// every command), and the embedding outputs of `bertc embed`: .npy (float32 [N, H]), JSON lines
// ({"index", "<mode>": [...]}) and TSV (one row of values per input). Floats are printed in their
// shortest round-trip form (append_float, common/strings.h). Files go through common/output_file.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/output_file.h"

namespace bertc {

// An output's format: `format_flag` when given (it must be one of the formats in `extensions`),
// else the one `path`'s extension names, else `fallback` when the path has no extension (stdout,
// a FIFO, /dev/fd/N). Throws UsageError for an extension that disagrees with --format and for
// an extension no format has (without --format). `extensions`: {".ext", "format"} pairs.
std::string choose_output_format(const std::string& path, const std::string& format_flag,
                                 const std::vector<std::pair<std::string, std::string>>& extensions,
                                 const std::string& fallback);

// PATH with ".<name>" before its extension (or `default_ext` when it has none): the file of one
// of several modes, e.g. out.npy -> out.mean.npy.
std::string path_for_mode(const std::string& path, const std::string& name,
                          const std::string& default_ext);

enum class OutputFormat { kNpy, kJsonl, kTsv };

// The format of `bertc embed -o PATH [--format F]` (jsonl without either).
OutputFormat embedding_format(const std::string& path, const std::string& format_flag);

// One named matrix [rows, dim] (a pooling mode's embeddings), or with `ragged` one [T_r, dim]
// matrix per row (per-token states; jsonl only), with each row's token ids and wordpieces.
struct NamedMatrix {
  std::string name;
  const std::vector<float>* data = nullptr;
  const std::vector<std::vector<float>>* ragged = nullptr;
  const std::vector<std::vector<int32_t>>* token_ids = nullptr;    // with ragged
  const std::vector<std::vector<std::string>>* wordpieces = nullptr;  // with ragged
};

// The outputs of one `bertc embed` run, opened before the work (so a bad -o fails at once) and
// written when the matrices exist. PATH "" or "-" is stdout; several matrices in npy or tsv go to
// one file each (path_for_mode), and to stdout need jsonl.
class EmbeddingOutputs {
 public:
  EmbeddingOutputs(const std::string& path, OutputFormat format, const std::vector<std::string>& names);
  // Writes every file, then commits them all, so a failure leaves none of them behind.
  void write(const std::vector<NamedMatrix>& mats, int64_t rows, int64_t dim);
  const std::vector<std::string>& paths() const { return paths_; }  // empty for stdout

 private:
  OutputFormat format_;
  std::vector<std::unique_ptr<OutputFile>> files_;
  std::vector<std::string> paths_;
};

}  // namespace bertc
