// bertc similarity: the cosine matrix of texts for each mode (BERT poolings, word vectors): all
// pairs of one set of texts, or queries x corpus; as an aligned table like the seed notebook's
// pandas DataFrame, CSV, or .npy. Checked by tests/cli/search_cli_test.cc.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "app/search.h"
#include "app/text_input.h"
#include "app/text_modes.h"
#include "common/error.h"
#include "common/npy.h"
#include "common/output_file.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/output.h"

namespace bertc {
namespace {

// The matrices as a table (one block per mode) or CSV (mode,row,<columns>).
std::string format_text(const std::string& format, const std::vector<ModeMatrix>& rows,
                        const std::vector<ModeMatrix>& cols, const TextModes& modes) {
  std::string text;
  const int64_t n = rows.empty() ? 0 : rows[0].rows, m = cols.empty() ? 0 : cols[0].rows;
  char cell[64];
  if (format == "csv") {
    text += "mode,row";
    for (int64_t j = 0; j < m; ++j) text += str_cat(",", j);
    text += "\n";
  }
  for (size_t mi = 0; mi < rows.size(); ++mi) {
    const std::vector<float> sim =
        cosine_matrix(rows[mi].data.data(), n, cols[mi].data.data(), m, rows[mi].dim);
    const std::string& name = rows[mi].name;
    if (format == "csv") {
      for (int64_t i = 0; i < n; ++i) {
        text += str_cat(name, ",", i);
        for (int64_t j = 0; j < m; ++j) {
          std::snprintf(cell, sizeof cell, ",%.6f", sim[i * m + j]);
          text += cell;
        }
        text += "\n";
      }
      continue;
    }
    // Table: right-aligned columns, the row labels on the left, like a pandas DataFrame.
    if (mi) text += "\n";
    const std::string note = modes.note(name);
    text += name + (note.empty() ? "" : " (" + note + ")") + "\n";
    constexpr int kWidth = 10;
    const int label = static_cast<int>(std::to_string(std::max<int64_t>(n - 1, 0)).size());
    std::snprintf(cell, sizeof cell, "%*s", label, "");
    text += cell;
    for (int64_t j = 0; j < m; ++j) {
      std::snprintf(cell, sizeof cell, "%*lld", kWidth, static_cast<long long>(j));
      text += cell;
    }
    text += "\n";
    for (int64_t i = 0; i < n; ++i) {
      std::snprintf(cell, sizeof cell, "%*lld", label, static_cast<long long>(i));
      text += cell;
      for (int64_t j = 0; j < m; ++j) {
        std::snprintf(cell, sizeof cell, "%*.6f", kWidth, sim[i * m + j]);
        text += cell;
      }
      text += "\n";
    }
  }
  return text;
}

}  // namespace

int run_similarity(const Args& args) {
  CLI::App app{"Cosine similarity matrix of texts, per embedding mode: all pairs of the texts, or\n"
               "every query against every corpus line with --corpus",
               "bertc similarity"};
  ModeOptions modes;
  InputFlags input_flags;
  std::vector<std::string> texts;
  std::string input, corpus_path, format, out_path;
  app.add_option("texts", texts, "texts to compare (else -i FILE, else stdin; one per line)");
  app.add_option("-i,--input,--queries", input,
                 "file with one text per line ('-' = stdin): the matrix's rows")->group("Input");
  app.add_option("--corpus", corpus_path,
                 "file of texts for the columns (default: the rows' texts again, a square matrix)")
      ->group("Input");
  add_input_flags(app, input_flags);
  add_mode_flags(app, modes);
  app.add_option("--format", format,
                 "table | csv | npy (default: from -o's extension .txt/.csv/.npy, else table)")
      ->check(CLI::IsMember({"table", "csv", "npy"}))->group("Output");
  app.add_option("-o,--output", out_path,
                 "output file (a temp file renamed over it when complete; FIFOs and devices are "
                 "written directly); npy with several modes: OUT.<mode>.npy; default: stdout")
      ->group("Output");
  if (!parse_args(app, args)) return 0;
  if (!texts.empty() && !input.empty()) throw UsageError("give TEXT arguments or -i FILE, not both");
  const std::string fmt = choose_output_format(
      out_path, format, {{".txt", "table"}, {".csv", "csv"}, {".npy", "npy"}}, "table");
  const InputOptions input_options = input_flags.options();

  TextModes text_modes(modes);
  const std::vector<std::string>& names = text_modes.names();
  // The outputs, before any work: one file, or with npy and several modes one per mode.
  std::vector<std::unique_ptr<OutputFile>> outputs;
  const std::string target = out_path.empty() ? "-" : out_path;
  if (fmt == "npy" && names.size() > 1) {
    if (target == "-") throw UsageError("npy to stdout takes one --pool mode; use -o FILE.npy");
    for (const std::string& name : names)
      outputs.push_back(std::make_unique<OutputFile>(path_for_mode(target, name, ".npy")));
  } else {
    outputs.push_back(std::make_unique<OutputFile>(target));
  }

  if (texts.empty() && (input.empty() || input == "-")) hint_reading_stdin("bertc similarity", "texts");
  const TextInputs row_in = texts.empty() ? read_text_inputs(input, input_options)
                                          : text_inputs_from_args(texts, input_options);
  const TextInputs col_in = corpus_path.empty() ? TextInputs{} : read_text_inputs(corpus_path, input_options);
  for (const TextInputs* in : {&row_in, &col_in}) {
    if (in->blank_lines > 0 && !modes.quiet)
      std::fprintf(stderr, "bertc similarity: note: %s: %lld blank lines compared as empty texts\n",
                   in->source.c_str(), static_cast<long long>(in->blank_lines));
    if (in->replaced_lines > 0)
      std::fprintf(stderr, "bertc similarity: warning: %s: invalid UTF-8 replaced on %lld lines\n",
                   in->source.c_str(), static_cast<long long>(in->replaced_lines));
  }
  if (row_in.items.empty() || (!corpus_path.empty() && col_in.items.empty()))
    std::fprintf(stderr, "bertc similarity: warning: %s: no texts; the matrix is empty\n",
                 (row_in.items.empty() ? row_in : col_in).source.c_str());

  const std::vector<ModeMatrix> rows = text_modes.embed(row_in.texts(), "text", true);
  const std::vector<ModeMatrix> cols =
      corpus_path.empty() ? rows : text_modes.embed(col_in.texts(), "corpus line", false);
  if (fmt == "npy") {
    for (size_t mi = 0; mi < rows.size(); ++mi) {
      const int64_t n = rows[mi].rows, m = cols[mi].rows;
      const std::vector<float> sim = cosine_matrix(rows[mi].data.data(), n, cols[mi].data.data(), m, rows[mi].dim);
      const std::string bytes = npy_bytes(sim.data(), {n, m});
      OutputFile& out = *outputs[outputs.size() == 1 ? 0 : mi];
      out.write(bytes.data(), bytes.size());
    }
  } else {
    const std::string text = format_text(fmt, rows, cols, text_modes);
    outputs[0]->write(text.data(), text.size());
  }
  for (auto& out : outputs) {
    out->commit();
    if (!modes.quiet && out->path() != "-")
      std::fprintf(stderr, "bertc similarity: wrote %s\n", out->path().c_str());
  }
  return 0;
}

}  // namespace bertc
