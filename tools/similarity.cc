// bertc similarity: the cosine matrix of a few texts for each mode (BERT poolings, word2vec), as
// an aligned table like the seed notebook's pandas DataFrame, CSV, or .npy.
#include <cstdio>
#include <string>
#include <vector>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/npy.h"
#include "app/search.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "app/text_modes.h"

namespace bertc {

int run_similarity(const Args& args) {
  CLI::App app{"Cosine similarity matrix of texts, per embedding mode", "bertc similarity"};
  ModeOptions modes;
  std::vector<std::string> texts;
  std::string input, format = "table", out_path;
  app.add_option("texts", texts, "texts to compare (else -i FILE, one per line)");
  app.add_option("-i,--input", input, "file with one text per line ('-' = stdin)")->group("Input");
  add_mode_flags(app, modes, "--pool");
  app.add_option("--format", format, "table | csv | npy (npy needs -o)")
      ->check(CLI::IsMember({"table", "csv", "npy"}))->capture_default_str()->group("Output");
  app.add_option("-o,--output", out_path,
                 "output file (written atomically); npy with several modes: OUT.<mode>.npy")
      ->group("Output");
  if (!parse_args(app, args)) return 0;
  if (!texts.empty() && !input.empty()) throw UsageError("give TEXT arguments or -i FILE, not both");
  if (texts.empty() && input.empty()) throw UsageError("no texts (give TEXT... or -i FILE)");
  if (format == "npy" && out_path.empty()) throw UsageError("--format npy needs -o FILE");
  if (modes.modes.empty() && modes.w2v_path.empty()) modes.modes = "mean";
  if (!input.empty()) texts = read_lines(input);
  BERTC_CHECK(!texts.empty(), input, ": no texts");

  TextModes text_modes(modes);
  std::vector<ModeMatrix> mats = text_modes.embed(texts, "text", true);
  const int64_t n = static_cast<int64_t>(texts.size());

  if (format == "npy") {
    for (const ModeMatrix& m : mats) {
      std::vector<float> sim = cosine_matrix(m.data.data(), n, m.data.data(), n, m.dim);
      std::string path = out_path;
      if (mats.size() > 1) {
        std::string stem = path.ends_with(".npy") ? path.substr(0, path.size() - 4) : path;
        path = stem + "." + m.name + ".npy";
      }
      write_npy(path, sim.data(), {n, n});
      if (!modes.quiet) std::fprintf(stderr, "similarity: %s -> %s\n", m.name.c_str(), path.c_str());
    }
    return 0;
  }

  std::string text;
  if (format == "csv") text += "mode,row";
  if (format == "csv")
    for (int64_t j = 0; j < n; ++j) text += str_cat(",", j);
  if (format == "csv") text += "\n";
  for (size_t mi = 0; mi < mats.size(); ++mi) {
    const ModeMatrix& m = mats[mi];
    std::vector<float> sim = cosine_matrix(m.data.data(), n, m.data.data(), n, m.dim);
    char cell[64];
    if (format == "csv") {
      for (int64_t i = 0; i < n; ++i) {
        text += str_cat(m.name, ",", i);
        for (int64_t j = 0; j < n; ++j) {
          std::snprintf(cell, sizeof cell, ",%.6f", sim[i * n + j]);
          text += cell;
        }
        text += "\n";
      }
      continue;
    }
    // Table: right-aligned columns, the row labels on the left, like a pandas DataFrame.
    if (mi) text += "\n";
    std::string note = text_modes.note(m.name);
    text += m.name + (note.empty() ? "" : " (" + note + ")") + "\n";
    const int width = 10;
    std::snprintf(cell, sizeof cell, "%*s", static_cast<int>(std::to_string(n - 1).size()), "");
    text += cell;
    for (int64_t j = 0; j < n; ++j) {
      std::snprintf(cell, sizeof cell, "%*lld", width, static_cast<long long>(j));
      text += cell;
    }
    text += "\n";
    for (int64_t i = 0; i < n; ++i) {
      std::snprintf(cell, sizeof cell, "%*lld", static_cast<int>(std::to_string(n - 1).size()),
                    static_cast<long long>(i));
      text += cell;
      for (int64_t j = 0; j < n; ++j) {
        std::snprintf(cell, sizeof cell, "%*.6f", width, sim[i * n + j]);
        text += cell;
      }
      text += "\n";
    }
  }
  if (out_path.empty() || out_path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    AtomicFile out(out_path);
    out.write(text.data(), text.size());
    out.commit();
  }
  return 0;
}

}  // namespace bertc
