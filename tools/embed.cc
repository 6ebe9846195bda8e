// bertc embed: texts (arguments, a file or stdin; plain lines or JSON lines) -> sentence
// embeddings in input order, as .npy, JSON lines or TSV. The work is app/embedder.h's.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/embedder.h"
#include "common/error.h"
#include "engine/make_backend.h"
#include "common/strings.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/output.h"
#include "common/progress.h"
#include "weights/model_file.h"
#include "app/model_path.h"

namespace bertc {
namespace {

// Byte offset of the first invalid UTF-8 sequence (overlongs, surrogates, > U+10FFFF), or npos.
size_t invalid_utf8_at(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0, min = 0;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xe0) == 0xc0) { n = 1; cp = c & 0x1f; min = 0x80; }
    else if ((c & 0xf0) == 0xe0) { n = 2; cp = c & 0x0f; min = 0x800; }
    else if ((c & 0xf8) == 0xf0) { n = 3; cp = c & 0x07; min = 0x10000; }
    else return i;
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return i;
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return std::string_view::npos;
}

std::vector<int32_t> int_list(const nlohmann::json& j, const char* key, const std::string& where) {
  BERTC_CHECK(j.is_array(), where, ": \"", key, "\" must be an array of integers");
  std::vector<int32_t> out;
  for (const auto& v : j) {
    BERTC_CHECK(v.is_number_integer(), where, ": \"", key, "\" must be an array of integers");
    out.push_back(v.get<int32_t>());
  }
  return out;
}

EmbedInput parse_jsonl_line(const std::string& line, const std::string& where) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    BERTC_FAIL(where, ": invalid JSON (", e.what(), ")");
  }
  BERTC_CHECK(j.is_object(), where, ": expected a JSON object");
  EmbedInput in;
  auto text = [&](const char* key) {
    BERTC_CHECK(j[key].is_string(), where, ": \"", key, "\" must be a string");
    return j[key].get<std::string>();
  };
  if (j.contains("input_ids")) {
    in.pretokenized = true;
    in.input_ids = int_list(j["input_ids"], "input_ids", where);
    if (j.contains("token_type_ids"))
      in.token_type_ids = int_list(j["token_type_ids"], "token_type_ids", where);
  } else if (j.contains("text_a") || j.contains("text_b")) {
    BERTC_CHECK(j.contains("text_a") && j.contains("text_b"), where,
                ": a pair needs both \"text_a\" and \"text_b\"");
    in.text = text("text_a");
    in.text_b = text("text_b");
    in.is_pair = true;
  } else {
    BERTC_CHECK(j.contains("text"), where,
                ": expected {\"text\"}, {\"text_a\", \"text_b\"} or {\"input_ids\"}");
    in.text = text("text");
  }
  return in;
}

// Reads one input per line ("" or "-" is stdin); a final newline does not make an empty input.
std::vector<EmbedInput> read_inputs(const std::string& path, bool jsonl) {
  const bool from_stdin = path.empty() || path == "-";
  const std::string name = from_stdin ? "<stdin>" : path;
  std::ifstream file;
  if (!from_stdin) {
    file.open(path, std::ios::binary);
    BERTC_CHECK(file, path, ": cannot open");
  }
  std::istream& in = from_stdin ? std::cin : file;
  std::vector<EmbedInput> inputs;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string where = str_cat(name, ":", n);
    const size_t bad = invalid_utf8_at(line);
    BERTC_CHECK(bad == std::string_view::npos, where, ": invalid UTF-8 at byte ", bad + 1);
    if (jsonl) {
      if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines
      inputs.push_back(parse_jsonl_line(line, where));
    } else {
      inputs.emplace_back();
      inputs.back().text = line;
    }
    inputs.back().line = n;
  }
  BERTC_CHECK(!in.bad(), name, ": read error");
  return inputs;
}

}  // namespace

int run_embed(const Args& args) {
  CLI::App app{"Sentence embeddings with a BERT model, in input order", "bertc embed"};
  std::string model_path = default_model_path(), input, input_format = "text", pool = "auto";
  std::string on_long = "truncate", out_path, format;
  std::vector<std::string> texts;
  bool normalize = false, quiet = false;
  int64_t layer = -1, max_length = 0, stride = 0, max_tokens = 8192;
  DeviceChoice device;
  app.add_option("texts", texts, "texts to embed (else -i FILE, else stdin; one per line)");
  app.add_option("-m,--model", model_path, "the .bertc model ($BERTC_MODEL or the installed default)")
      ->group("Model")->capture_default_str();
  app.add_option("-i,--input", input, "input file, one text per line ('-' = stdin)")->group("Input");
  app.add_option("--input-format", input_format,
                 "text: one text per line; jsonl: {\"text\"}, {\"text_a\",\"text_b\"} or "
                 "{\"input_ids\",\"token_type_ids\"?}")
      ->group("Input")->capture_default_str()->check(CLI::IsMember({"text", "jsonl"}));
  app.add_option("--max-length", max_length,
                 "tokens per input incl. [CLS]/[SEP] (0: the model's; sentence-transformers "
                 "max_seq_length when present)")
      ->group("Input")->capture_default_str();
  app.add_option("--on-long", on_long,
                 "inputs over --max-length: truncate (reported on stderr), error (exit 1 naming the "
                 "line) or window (average of overlapping windows)")
      ->group("Input")->capture_default_str()->check(CLI::IsMember({"truncate", "error", "window"}));
  app.add_option("--stride", stride, "window mode: tokens between window starts (0: half a window)")
      ->group("Input")->capture_default_str();
  app.add_option("--pool", pool,
                 "pooled|mean|cls|max|auto|tokens, comma-separated for several; auto = the model's "
                 "sentence-transformers pooling (mode + normalize) when the .bertc has one, else "
                 "mean; tokens = every token's hidden state (jsonl only)")
      ->group("Embedding")->capture_default_str();
  app.add_flag("--normalize", normalize, "L2-normalise every embedding")->group("Embedding");
  app.add_option("--layer", layer,
                 "hidden states to pool: 0 = embeddings output .. L = last; negative counts from "
                 "the top (-1 = last)")
      ->group("Embedding")->capture_default_str();
  app.add_option("-o,--output", out_path,
                 "output file (atomic); several --pool modes in npy/tsv go to OUT.<mode>.<ext>; "
                 "default: stdout")->group("Output");
  app.add_option("--format", format, "npy | jsonl | tsv (default: from -o's extension, else jsonl)")
      ->group("Output");
  app.add_flag("-q,--quiet", quiet, "no progress bar or summary line")->group("Output");
  add_device_flags(app, device, /*with_tf32=*/true);
  app.add_option("--max-tokens", max_tokens, "tokens per packed batch (workspace size)")
      ->group("Device")->capture_default_str();
  if (!parse_args(app, args)) return 0;

  const OutputFormat fmt = format.empty() ? output_format_for(out_path) : parse_output_format(format);
  if (fmt == OutputFormat::kNpy && (out_path.empty() || out_path == "-"))
    throw UsageError("--format npy needs -o FILE");
  if (!texts.empty() && !input.empty()) throw UsageError("give TEXT arguments or -i FILE, not both");
  if (max_tokens < 16) throw UsageError("--max-tokens must be >= 16");
  if (stride < 0 || max_length < 0) throw UsageError("--stride and --max-length must be >= 0");

  std::vector<EmbedInput> inputs;
  if (!texts.empty()) {
    for (size_t i = 0; i < texts.size(); ++i) {
      const size_t bad = invalid_utf8_at(texts[i]);
      BERTC_CHECK(bad == std::string_view::npos, "argument ", i + 1, ": invalid UTF-8 at byte ", bad + 1);
      EmbedInput in;
      if (input_format == "jsonl") {
        in = parse_jsonl_line(texts[i], str_cat("argument ", i + 1));
      } else {
        in.text = texts[i];
      }
      in.line = static_cast<int64_t>(i) + 1;
      inputs.push_back(std::move(in));
    }
  } else {
    inputs = read_inputs(input, input_format == "jsonl");
  }
  BERTC_CHECK(!inputs.empty(), input.empty() || input == "-" ? std::string("<stdin>") : input,
              ": no input texts");

  auto file = ModelFile::open(model_path);
  Embedder embedder(file, device.backend_options(), max_tokens);

  EmbedOptions opt;
  // "tokens" asks for per-token states; the other words are pooling modes.
  std::string pool_modes;
  for (const std::string& word : split_list(pool)) {
    if (word == "tokens")
      opt.token_states = true;
    else
      pool_modes += (pool_modes.empty() ? "" : ",") + word;
  }
  if (!pool_modes.empty()) opt.pools = parse_pool_choices(pool_modes, normalize, *file);
  if (opt.token_states && fmt != OutputFormat::kJsonl)
    throw UsageError("--pool tokens (per-token states) needs jsonl output");
  opt.normalize_tokens = normalize;
  opt.layer = layer;
  opt.max_length = max_length;
  opt.on_long = on_long == "error" ? OnLong::kError : on_long == "window" ? OnLong::kWindow
                                                                         : OnLong::kTruncate;
  opt.stride = stride;
  Progress progress("embedding", static_cast<int64_t>(inputs.size()), !quiet);
  opt.progress = [&](int64_t done, int64_t total) {
    progress.update(done * static_cast<int64_t>(inputs.size()) / std::max<int64_t>(total, 1));
  };

  const auto start = std::chrono::steady_clock::now();
  const EmbedResult result = embedder.embed(inputs, opt);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<NamedMatrix> mats;
  for (size_t c = 0; c < opt.pools.size(); ++c)
    mats.push_back({opt.pools[c].name, &result.matrices[c], nullptr});
  if (opt.token_states) mats.push_back({"tokens", nullptr, &result.token_states});
  const auto written = write_embeddings(out_path, fmt, mats, result.rows, result.dim);

  const int64_t max_len = max_length > 0 ? max_length : embedder.default_max_length();
  if (result.truncated > 0)
    std::fprintf(stderr, "bertc embed: %lld of %zu inputs truncated to %lld tokens "
                 "(--on-long error|window to change)\n",
                 static_cast<long long>(result.truncated), inputs.size(), static_cast<long long>(max_len));
  if (!quiet) {
    std::string pools;
    for (const PoolChoice& c : opt.pools) pools += (pools.empty() ? "" : ",") + c.name + (c.normalize ? "+norm" : "");
    if (opt.token_states) pools += pools.empty() ? "tokens" : ",tokens";
    std::fprintf(stderr, "bertc embed: %zu texts, %lld tokens, %lld truncated, %lld windowed, "
                 "%.0f tokens/s, pool %s%s%s\n",
                 inputs.size(), static_cast<long long>(result.tokens),
                 static_cast<long long>(result.truncated), static_cast<long long>(result.windowed),
                 secs > 0 ? static_cast<double>(result.tokens) / secs : 0.0, pools.c_str(),
                 written.empty() ? "" : " -> ", written.empty() ? "" : written.front().c_str());
  }
  return 0;
}

}  // namespace bertc
