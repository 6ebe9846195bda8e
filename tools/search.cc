// bertc search: for each query, the top-k corpus documents by cosine for each mode (BERT
// poolings, word2vec), side by side in a table or as JSON lines. The scan is app/search.h's.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "app/search.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "app/index.h"
#include "app/text_modes.h"

namespace bertc {
namespace {

// At most `max_chars` code points of UTF-8 `s` (cut at a character boundary, "..." appended),
// and the number of code points of the result, for column alignment.
std::string clip(const std::string& s, size_t max_chars, size_t* chars) {
  size_t n = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xc0) == 0x80) continue;
    if (n == max_chars) break;
    ++n;
  }
  if (i == s.size()) {
    *chars = n;
    return s;
  }
  // Make room for "..." within max_chars.
  size_t keep = max_chars >= 3 ? max_chars - 3 : 0, m = 0, j = 0;
  for (; j < s.size(); ++j) {
    if ((static_cast<unsigned char>(s[j]) & 0xc0) == 0x80) continue;
    if (m == keep) break;
    ++m;
  }
  *chars = keep + 3;
  return s.substr(0, j) + "...";
}

}  // namespace

int run_search(const Args& args) {
  CLI::App app{"Top-k semantic search of a corpus, per embedding mode, side by side", "bertc search"};
  ModeOptions modes;
  std::vector<std::string> queries;
  std::string corpus_path, index_path, queries_path, format = "table";
  int64_t k = 5;
  app.add_option("queries", queries, "query texts (else --queries FILE)");
  app.add_option("--corpus", corpus_path,
                 "one document per line, or JSON lines {\"text\", \"id\"?} (.jsonl or lines "
                 "starting with '{')")
      ->group("Input");
  app.add_option("--index", index_path,
                 "search a prebuilt index (bertc index build) instead of embedding --corpus; the "
                 "models given must be the ones it was built with")
      ->group("Input");
  app.add_option("--queries", queries_path, "file with one query per line ('-' = stdin)")->group("Input");
  add_mode_flags(app, modes, "--modes");
  app.add_option("-k,--top-k", k, "results per query and mode")->capture_default_str()->group("Search");
  app.add_option("--format", format, "table (modes side by side) | jsonl "
                 "({\"query\", \"mode\", \"rank\", \"index\", \"score\", \"text\", \"id\"?})")
      ->check(CLI::IsMember({"table", "jsonl"}))->capture_default_str()->group("Output");
  if (!parse_args(app, args)) return 0;
  if (corpus_path.empty() == index_path.empty())
    throw UsageError(corpus_path.empty() ? "--corpus FILE or --index INDEX is required"
                                         : "give --corpus or --index, not both");
  if (!queries.empty() && !queries_path.empty())
    throw UsageError("give QUERY arguments or --queries FILE, not both");
  if (queries.empty() && queries_path.empty()) throw UsageError("no queries (give QUERY... or --queries FILE)");
  if (k < 1) throw UsageError("-k must be >= 1");
  if (!queries_path.empty()) queries = read_lines(queries_path);
  BERTC_CHECK(!queries.empty(), queries_path, ": no queries");

  // The corpus side: embedded now (--corpus) or mapped from an index (--index).
  Corpus corpus;
  std::unique_ptr<SearchIndex> index;
  std::vector<ModeMatrix> docs;
  std::vector<CorpusView> views;
  if (!index_path.empty()) {
    index = std::make_unique<SearchIndex>(index_path);
    if (modes.modes.empty()) {
      for (const std::string& m : index->modes()) modes.modes += (modes.modes.empty() ? "" : ",") + m;
    }
  }
  TextModes text_modes(modes);
  const std::vector<std::string>& names = text_modes.names();
  if (index) {
    corpus.texts = index->texts();
    corpus.ids = index->ids();
    for (const std::string& name : names)
      views.push_back(index->checked_view(name, text_modes.fingerprint(name)));
  } else {
    corpus = read_corpus(corpus_path);
    docs = text_modes.embed(corpus.texts, "corpus line", false);
    for (ModeMatrix& m : docs) {
      l2_normalize_rows(m.data.data(), m.rows, m.dim);
      views.push_back({m.data.data(), DType::kF32, m.rows, m.dim});
    }
  }
  std::vector<ModeMatrix> qs = text_modes.embed(queries, "query", true);
  const size_t num_modes = names.size();
  // hits[mode][query] = the top-k of that query in that mode.
  std::vector<std::vector<std::vector<SearchHit>>> hits(num_modes);
  for (size_t m = 0; m < num_modes; ++m) {
    BERTC_CHECK(views[m].dim == qs[m].dim, index_path, ": mode '", names[m], "' has dim ",
                views[m].dim, ", the model gives ", qs[m].dim);
    hits[m] = top_k(views[m], qs[m].data.data(), qs[m].rows, k, modes.device.threads);
  }

  std::string out;
  if (format == "jsonl") {
    for (size_t q = 0; q < queries.size(); ++q) {
      for (size_t m = 0; m < num_modes; ++m) {
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
  } else {
    const size_t text_chars = num_modes > 2 ? 40 : 56;
    for (size_t m = 0; m < num_modes; ++m) {
      std::string note = text_modes.note(names[m]);
      if (!note.empty()) out += "note: " + names[m] + ": " + note + "\n";
    }
    for (size_t q = 0; q < queries.size(); ++q) {
      out += str_cat(q ? "\n" : "", "query ", q + 1, ": ", queries[q], "\n");
      std::string header = "rank";
      for (size_t m = 0; m < num_modes; ++m) {
        std::string name = names[m];
        header += "  " + name + std::string(m + 1 < num_modes ? 8 + text_chars - name.size() : 0, ' ');
      }
      out += header + "\n";
      size_t rows = hits[0][q].size();
      for (size_t r = 0; r < rows; ++r) {
        char cell[32];
        std::snprintf(cell, sizeof cell, "%4zu", r + 1);
        std::string line = cell;
        for (size_t m = 0; m < num_modes; ++m) {
          const SearchHit& h = hits[m][q][r];
          size_t chars = 0;
          std::string text = clip(corpus.texts[h.index], text_chars, &chars);
          std::snprintf(cell, sizeof cell, "  %6.4f  ", h.score);
          line += cell + text;
          if (m + 1 < num_modes) line += std::string(text_chars - chars, ' ');
        }
        out += line + "\n";
      }
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace bertc
