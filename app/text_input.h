// Reading texts, the one way every command does (embed, similarity, search, index build,
// tokenize; the Python package too):
//   - one input per line; a final newline does not make an extra input; "\r\n" is "\n";
//   - plain text keeps blank lines as empty texts, so row i is always line i + 1 (blank_lines
//     counts them for a note); JSON lines needs one object per line, a blank line is an error;
//   - the format: JSON lines when the file name ends in .jsonl (InputFormat::kAuto), else plain
//     text; stdin and TEXT arguments are plain text unless the format is kJsonl;
//   - invalid UTF-8 is an error "WHERE: invalid UTF-8 at byte B (reason)", B counted from 1, or
//     with replace_invalid_utf8 each bad sequence becomes U+FFFD.
// WHERE is FILE:LINE, <stdin>:LINE or "argument N". Checked by tests/app/text_input_test.cc.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/embedder.h"

namespace bertc {

enum class InputFormat { kAuto, kText, kJsonl };

// "auto" | "text" | "jsonl"; throws UsageError naming `flag` otherwise.
InputFormat parse_input_format(const std::string& name, const std::string& flag = "--input-format");

struct InputOptions {
  InputFormat format = InputFormat::kAuto;
  bool replace_invalid_utf8 = false;  // --utf8-errors replace
  // JSON lines may hold pairs {"text_a", "text_b"} and token ids {"input_ids",
  // "token_type_ids"?} (embed); otherwise only {"text", "id"?}.
  bool allow_pairs_and_ids = false;
};

struct TextInputs {
  std::string source;             // the file name, "<stdin>" or "arguments"
  bool jsonl = false;             // read as JSON lines
  std::vector<EmbedInput> items;  // one per line (or argument); .line is its line number
  std::vector<std::string> ids;   // JSON lines: every line's "id", or empty when none has one
  int64_t blank_lines = 0;        // plain text: blank lines, kept as empty texts
  int64_t replaced_lines = 0;     // lines whose invalid UTF-8 became U+FFFD

  std::vector<std::string> texts() const;  // each item's text (texts-only inputs)
};

// The lines of `path` ("-": stdin). Throws bertc::Error naming WHERE and the problem.
TextInputs read_text_inputs(const std::string& path, const InputOptions& options);
// TEXT arguments, one input each (plain text, or JSON with format kJsonl).
TextInputs text_inputs_from_args(const std::vector<std::string>& args, const InputOptions& options);

// `text` checked as UTF-8: returned as is when valid; with `replace`, bad sequences become U+FFFD
// (and *replaced is set); otherwise throws "WHERE: invalid UTF-8 at byte B (reason)".
std::string checked_utf8(std::string text, const std::string& where, bool replace,
                         bool* replaced = nullptr);

}  // namespace bertc
