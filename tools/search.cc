// bertc search: for each query, the top-k corpus documents by cosine for each mode (BERT
// poolings, word vectors), side by side in a table or as JSON lines. The corpus is embedded now
// (--corpus) or mapped from an index (--index); the scan is app/search.h's.
// Checked by tests/cli/search_cli_test.cc.
#include <utf8proc.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/index.h"
#include "app/search.h"
#include "app/text_input.h"
#include "app/text_modes.h"
#include "common/error.h"
#include "common/utf8.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace bertc {
namespace {

struct SearchFlags {
  ModeOptions modes;
  InputFlags input;
  std::vector<std::string> queries;
  std::string corpus_path, index_path, queries_path, format = "table";
  int64_t k = 5;
};

// The corpus every query is scanned against: one view per mode, in TextModes::names() order.
struct CorpusSide {
  std::vector<std::string> texts, ids;
  std::unique_ptr<SearchIndex> index;  // --index: the mapped matrices
  std::vector<ModeMatrix> docs;        // --corpus: the embedded, normalised documents
  std::vector<CorpusView> views;
};

// --index: the modes default to the index's; a model not given on the command line is the one the
// index was built with, when that file is still there. A w2v mode whose word-vector file is gone
// is left out with a note, unless --pool asked for it.
void modes_from_index(const SearchIndex& index, const std::string& index_path, ModeOptions& modes) {
  const bool asked = !modes.modes.empty();
  namespace fs = std::filesystem;
  if (modes.model_path.empty() && !index.bert_model_path().empty() && fs::exists(index.bert_model_path()))
    modes.model_path = index.bert_model_path();
  if (modes.w2v_path.empty() && !index.w2v_model_path().empty() && fs::exists(index.w2v_model_path()))
    modes.w2v_path = index.w2v_model_path();
  if (asked) return;
  for (const std::string& m : index.modes()) {
    if (m == "w2v" && modes.w2v_path.empty()) {
      std::fprintf(stderr, "bertc search: note: %s: mode w2v left out: its word-vector file %s is "
                   "gone (give --w2v FILE)\n", index_path.c_str(),
                   index.w2v_model_path().empty() ? "(not recorded)" : index.w2v_model_path().c_str());
      continue;
    }
    modes.modes += (modes.modes.empty() ? "" : ",") + m;
  }
  BERTC_CHECK(!modes.modes.empty(), index_path, ": no mode of the index can be searched (give --w2v FILE)");
}

CorpusSide corpus_from_index(std::unique_ptr<SearchIndex> index, const TextModes& modes) {
  CorpusSide side;
  side.texts = index->texts();
  side.ids = index->ids();
  for (const std::string& name : modes.names())
    side.views.push_back(index->checked_view(name, modes.fingerprint(name)));
  side.index = std::move(index);
  return side;
}

CorpusSide corpus_from_file(const std::string& path, const InputOptions& options,
                            const TextModes& modes, bool quiet) {
  TextInputs in = read_text_inputs(path, options);
  BERTC_CHECK(!in.items.empty(), path, ": the corpus is empty");
  if (in.blank_lines > 0 && !quiet)
    std::fprintf(stderr, "bertc search: note: %s: %lld blank lines kept as empty documents\n",
                 path.c_str(), static_cast<long long>(in.blank_lines));
  CorpusSide side;
  side.texts = in.texts();
  side.ids = std::move(in.ids);
  side.docs = modes.embed(side.texts, "corpus line", false);
  for (ModeMatrix& m : side.docs) {
    l2_normalize_rows(m.data.data(), m.rows, m.dim);
    side.views.push_back({m.data.data(), DType::kF32, m.rows, m.dim});
  }
  return side;
}

// Terminal columns of code point `cp`: 2 for wide (CJK) characters, 0 for combining marks.
int columns_of(char32_t cp) { return std::max(0, utf8proc_charwidth(static_cast<utf8proc_int32_t>(cp))); }

// `s` cut to at most `max_cols` terminal columns ("..." marks a cut), control characters shown as
// spaces, padded with spaces to exactly `max_cols` when `pad`.
std::string table_cell(const std::string& s, size_t max_cols, bool pad) {
  size_t total = 0;
  for (size_t i = 0; i < s.size();) total += columns_of(decode_utf8(s, i));
  const size_t budget = total <= max_cols ? max_cols : (max_cols >= 3 ? max_cols - 3 : 0);
  std::string out;
  size_t cols = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    const char32_t cp = decode_utf8(s, i);
    const size_t w = static_cast<size_t>(columns_of(cp));
    if (cols + w > budget) break;
    if (cp < 0x20 || cp == 0x7f) {
      out += ' ';
      cols += 1;
    } else {
      out.append(s, start, i - start);
      cols += w;
    }
  }
  if (total > max_cols) {
    out += "...";
    cols += 3;
  }
  if (pad && cols < max_cols) out.append(max_cols - cols, ' ');
  return out;
}

// hits[mode][query] = the top-k of that query in that mode.
using Hits = std::vector<std::vector<std::vector<SearchHit>>>;

std::string format_jsonl(const std::vector<std::string>& queries, const std::vector<std::string>& names,
                         const Hits& hits, const CorpusSide& corpus) {
  std::string out;
  for (size_t q = 0; q < queries.size(); ++q) {
    for (size_t m = 0; m < names.size(); ++m) {
      for (size_t r = 0; r < hits[m][q].size(); ++r) {
        const SearchHit& h = hits[m][q][r];
        nlohmann::ordered_json j;
        j["query"] = queries[q];
        j["mode"] = names[m];
        j["rank"] = r + 1;
        j["index"] = h.index;
        j["score"] = h.score;
        j["text"] = corpus.texts[h.index];
        if (!corpus.ids.empty()) j["id"] = corpus.ids[h.index];
        out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      }
    }
  }
  return out;
}

// Modes side by side: "rank" then per mode a 7-column score (room for a minus sign) and the text
// cut to a fixed number of terminal columns.
std::string format_table(const std::vector<std::string>& queries, const TextModes& modes,
                         const Hits& hits, const CorpusSide& corpus) {
  const std::vector<std::string>& names = modes.names();
  const size_t num_modes = names.size();
  const size_t text_cols = num_modes > 2 ? 40 : 56;
  std::string out;
  for (const std::string& name : names) {
    const std::string note = modes.note(name);
    if (!note.empty()) out += "note: " + name + ": " + note + "\n";
  }
  for (size_t q = 0; q < queries.size(); ++q) {
    out += str_cat(q ? "\n" : "", "query ", q + 1, ": ", table_cell(queries[q], 200, false), "\n");
    std::string header = "rank";
    for (size_t m = 0; m < num_modes; ++m)
      header += "  " + table_cell(names[m], 9 + text_cols, m + 1 < num_modes);
    out += header + "\n";
    for (size_t r = 0; r < hits[0][q].size(); ++r) {
      char cell[32];
      std::snprintf(cell, sizeof cell, "%4zu", r + 1);
      std::string line = cell;
      for (size_t m = 0; m < num_modes; ++m) {
        const SearchHit& h = hits[m][q][r];
        std::snprintf(cell, sizeof cell, "  %7.4f  ", h.score);
        line += cell + table_cell(corpus.texts[h.index], text_cols, m + 1 < num_modes);
      }
      out += line + "\n";
    }
  }
  return out;
}

}  // namespace

int run_search(const Args& args) {
  CLI::App app{"Top-k semantic search of a corpus, per embedding mode, side by side", "bertc search"};
  SearchFlags f;
  app.add_option("queries", f.queries, "query texts (else --queries FILE, else stdin; one per line)");
  app.add_option("--corpus", f.corpus_path,
                 "one document per line, or JSON lines {\"text\", \"id\"?} in a FILE.jsonl")
      ->group("Input");
  app.add_option("--index", f.index_path,
                 "search a prebuilt index (bertc index build) instead of embedding --corpus; its "
                 "models are used unless -m/--w2v name others, which must be the same models")
      ->group("Input");
  app.add_option("--queries", f.queries_path, "file with one query per line ('-' = stdin)")->group("Input");
  add_input_flags(app, f.input);
  add_mode_flags(app, f.modes);
  add_deprecated_alias(app, "--modes", "--pool", f.modes.modes);
  app.add_option("-k,--top-k", f.k, "results per query and mode")->capture_default_str()->group("Search")
      ->check(integer_in(1, 1000000000));
  app.add_option("--format", f.format, "table (modes side by side) | jsonl "
                 "({\"query\", \"mode\", \"rank\", \"index\", \"score\", \"text\", \"id\"?})")
      ->check(CLI::IsMember({"table", "jsonl"}))->capture_default_str()->group("Output");
  if (!parse_args(app, args)) return 0;
  if (f.corpus_path.empty() == f.index_path.empty())
    throw UsageError(f.corpus_path.empty() ? "--corpus FILE or --index INDEX is required"
                                           : "give --corpus or --index, not both");
  if (!f.queries.empty() && !f.queries_path.empty())
    throw UsageError("give QUERY arguments or --queries FILE, not both");
  const InputOptions input_options = f.input.options();

  std::unique_ptr<SearchIndex> index;
  if (!f.index_path.empty()) {
    index = std::make_unique<SearchIndex>(f.index_path);
    modes_from_index(*index, f.index_path, f.modes);
  }
  const TextModes modes(f.modes);
  if (f.queries.empty() && (f.queries_path.empty() || f.queries_path == "-"))
    hint_reading_stdin("bertc search", "queries");
  const TextInputs query_in = f.queries.empty() ? read_text_inputs(f.queries_path, input_options)
                                                : text_inputs_from_args(f.queries, input_options);
  if (query_in.items.empty()) {
    std::fprintf(stderr, "bertc search: warning: %s: no queries\n", query_in.source.c_str());
    return 0;
  }
  const CorpusSide corpus = index ? corpus_from_index(std::move(index), modes)
                                  : corpus_from_file(f.corpus_path, input_options, modes, f.modes.quiet);
  const std::vector<std::string> queries = query_in.texts();
  const std::vector<ModeMatrix> qs = modes.embed(queries, "query", true);
  Hits hits(modes.names().size());
  for (size_t m = 0; m < hits.size(); ++m) {
    BERTC_CHECK(corpus.views[m].dim == qs[m].dim, f.index_path, ": mode '", modes.names()[m],
                "' has dim ", corpus.views[m].dim, ", the model gives ", qs[m].dim);
    hits[m] = top_k(corpus.views[m], qs[m].data.data(), qs[m].rows, f.k, f.modes.device.threads);
  }
  const std::string out = f.format == "jsonl" ? format_jsonl(queries, modes.names(), hits, corpus)
                                              : format_table(queries, modes, hits, corpus);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace bertc
