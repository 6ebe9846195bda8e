// bertc embed: texts (arguments, a file or stdin; plain lines or JSON lines) -> sentence
// embeddings in input order, as .npy, JSON lines or TSV. The work is app/embedder.h's; inputs are
// read by app/text_input.h. Checked by tests/cli/embed_cli_test.cc.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "app/embedder.h"
#include "app/model_path.h"
#include "app/text_input.h"
#include "common/error.h"
#include "common/progress.h"
#include "common/strings.h"
#include "tokenizer/tokenizer.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/output.h"
#include "weights/model_file.h"

namespace bertc {
namespace {

struct EmbedFlags {
  std::string model_path = default_model_path(), input, pool = "auto", on_long = "truncate";
  std::string out_path, format;
  std::vector<std::string> texts;
  InputFlags input_flags;
  bool normalize = false, quiet = false;
  int64_t layer = -1, max_length = 0, stride = 0, max_tokens = 8192;
  DeviceChoice device;
};

void add_flags(CLI::App& app, EmbedFlags& f) {
  app.add_option("texts", f.texts, "texts to embed (else -i FILE, else stdin; one per line)");
  app.add_option("-m,--model", f.model_path, "the .bertc model ($BERTC_MODEL or the installed default)")
      ->group("Model")->capture_default_str();
  app.add_option("-i,--input", f.input,
                 "input file, one input per line ('-' = stdin); FILE.jsonl holds {\"text\"}, "
                 "{\"text_a\",\"text_b\"} or {\"input_ids\",\"token_type_ids\"?} objects")
      ->group("Input");
  add_input_flags(app, f.input_flags);
  app.add_option("--max-length", f.max_length,
                 "tokens per input incl. [CLS]/[SEP] (0: sentence-transformers max_seq_length when "
                 "the model has one, else the model's maximum)")
      ->group("Input")->capture_default_str();
  app.add_option("--on-long", f.on_long,
                 "inputs over --max-length: truncate (reported on stderr), error (exit 1 naming the "
                 "line) or window (average of overlapping windows)")
      ->group("Input")->capture_default_str()->check(CLI::IsMember({"truncate", "error", "window"}));
  app.add_option("--stride", f.stride, "with --on-long window: tokens between window starts (0: half a window)")
      ->group("Input")->capture_default_str();
  app.add_option("--pool", f.pool,
                 "pooled|mean|cls|max|auto|tokens, comma-separated for several; auto = the model's "
                 "sentence-transformers pooling (mode + normalize) when the .bertc has one, else "
                 "mean; tokens = every token's hidden state with its id and wordpiece (jsonl only)")
      ->group("Embedding")->capture_default_str()
      ->check(nonblank_list("pooled, mean, cls, max, auto, tokens"));
  app.add_flag("--normalize", f.normalize, "L2-normalise every embedding")->group("Embedding");
  app.add_option("--layer", f.layer,
                 "hidden states to pool: 0 = embeddings output .. L = last; negative counts from "
                 "the top (-1 = last)")
      ->group("Embedding")->capture_default_str();
  app.add_option("-o,--output", f.out_path,
                 "output file (a temp file renamed over it when complete; FIFOs and devices are "
                 "written directly); several --pool modes in npy/tsv go to OUT.<mode>.<ext>; "
                 "default: stdout")->group("Output");
  app.add_option("--format", f.format,
                 "npy | jsonl | tsv (default: from -o's extension .npy/.jsonl/.tsv, else jsonl)")
      ->group("Output")->check(CLI::IsMember({"npy", "jsonl", "tsv"}));
  app.add_flag("-q,--quiet", f.quiet, "no progress bar, notes or summary line")->group("Output");
  add_device_flags(app, f.device, /*with_tf32=*/true);
  app.add_option("--max-tokens", f.max_tokens, "tokens per packed batch (workspace size)")
      ->group("Device")->capture_default_str();
}

// The flag checks that need the model (lengths, poolings): usage errors, before any work.
EmbedOptions options_for(const EmbedFlags& f, const ModelFile& model) {
  EmbedOptions opt;
  // "tokens" asks for per-token states; the other words are pooling modes.
  std::string pool_modes;
  for (const std::string& word : split_list(f.pool)) {
    if (word.empty()) throw UsageError(str_cat("--pool ", f.pool, ": an empty mode between commas"));
    if (word == "tokens")
      opt.token_states = true;
    else
      pool_modes += (pool_modes.empty() ? "" : ",") + word;
  }
  if (!pool_modes.empty()) opt.pools = parse_pool_choices(pool_modes, f.normalize, model);
  const int64_t positions = model.bert_config().max_position_embeddings;
  if (f.max_length != 0 && (f.max_length < 3 || f.max_length > positions))
    throw UsageError(str_cat("--max-length ", f.max_length, ": must be between 3 and the model's ",
                             positions, " positions"));
  opt.max_length = f.max_length > 0 ? f.max_length : default_max_length(model);
  if (f.max_tokens < opt.max_length)
    throw UsageError(str_cat("--max-tokens ", f.max_tokens, " is smaller than the max length ",
                             opt.max_length, ": a long input would not fit in a batch (raise "
                             "--max-tokens or lower --max-length)"));
  opt.normalize_tokens = f.normalize;
  opt.layer = f.layer;
  const int64_t layers = model.bert_config().num_hidden_layers;
  if (f.layer > layers || f.layer < -(layers + 1))
    throw UsageError(str_cat("--layer ", f.layer, ": the model has ", layers, " layers (0..", layers,
                             ", or -1..-", layers + 1, " from the top)"));
  const bool pooled = std::any_of(opt.pools.begin(), opt.pools.end(),
                                  [](const PoolChoice& c) { return c.mode == PoolMode::kPooled; });
  if (pooled && f.layer != -1 && f.layer != layers)
    throw UsageError(str_cat("--pool pooled: the pooler applies to the last layer only, not --layer ", f.layer));
  opt.on_long = f.on_long == "error"    ? OnLong::kError
                : f.on_long == "window" ? OnLong::kWindow
                                        : OnLong::kTruncate;
  opt.stride = f.stride;
  if (opt.on_long == OnLong::kWindow && f.stride > opt.max_length - 2)
    throw UsageError(str_cat("--stride ", f.stride, " exceeds the window of ", opt.max_length - 2,
                             " tokens (the max length less [CLS] and [SEP])"));
  return opt;
}

// The ids and wordpieces of every input as the model saw them, for --pool tokens.
void token_columns(const Embedder& embedder, const std::vector<EmbedInput>& inputs,
                   const EmbedResult& result, int64_t max_length,
                   std::vector<std::vector<int32_t>>& ids, std::vector<std::vector<std::string>>& pieces) {
  const Tokenizer& tok = embedder.tokenizer();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const EmbedInput& in = inputs[i];
    std::vector<int32_t> row;
    if (in.pretokenized) {
      row = in.input_ids;
      if (static_cast<int64_t>(row.size()) > max_length) {  // as the embedder truncates them
        row[static_cast<size_t>(max_length - 1)] = row.back();
        row.resize(static_cast<size_t>(max_length));
      }
    } else {
      row = in.is_pair ? tok.encode_pair(in.text, in.text_b, max_length).ids
                       : tok.encode(in.text, max_length).ids;
    }
    BERTC_CHECK(row.size() * static_cast<size_t>(result.dim) == result.token_states[i].size(),
                "input ", i + 1, ": ", row.size(), " token ids for ",
                result.token_states[i].size() / static_cast<size_t>(result.dim), " token states");
    std::vector<std::string> words;
    for (int32_t id : row) words.emplace_back(tok.vocab().token(id));
    ids.push_back(std::move(row));
    pieces.push_back(std::move(words));
  }
}

}  // namespace

int run_embed(const Args& args) {
  CLI::App app{"Sentence embeddings with a BERT model, in input order", "bertc embed"};
  EmbedFlags f;
  add_flags(app, f);
  if (!parse_args(app, args)) return 0;

  // Usage checks first, then the outputs (a bad -o fails before any work), then the inputs.
  const OutputFormat fmt = embedding_format(f.out_path, f.format);
  if (!f.texts.empty() && !f.input.empty()) throw UsageError("give TEXT arguments or -i FILE, not both");
  if (f.max_tokens < 16) throw UsageError("--max-tokens must be >= 16");
  if (f.stride < 0 || f.max_length < 0) throw UsageError("--stride and --max-length must be >= 0");
  if (f.stride > 0 && f.on_long != "window") throw UsageError("--stride applies to --on-long window only");
  InputOptions input_options = f.input_flags.options();
  input_options.allow_pairs_and_ids = true;

  auto file = open_bert_model(f.model_path);
  EmbedOptions opt = options_for(f, *file);
  if (opt.token_states && fmt != OutputFormat::kJsonl)
    throw UsageError("--pool tokens (per-token states) needs jsonl output");
  if (opt.token_states && opt.on_long == OnLong::kWindow)
    throw UsageError("--pool tokens does not combine with --on-long window");
  std::vector<std::string> names;
  for (const PoolChoice& c : opt.pools) names.push_back(c.name);
  if (opt.token_states) names.push_back("tokens");
  EmbeddingOutputs outputs(f.out_path, fmt, names);

  if (f.texts.empty() && (f.input.empty() || f.input == "-")) hint_reading_stdin("bertc embed", "texts");
  const TextInputs in = f.texts.empty() ? read_text_inputs(f.input, input_options)
                                        : text_inputs_from_args(f.texts, input_options);
  if (in.blank_lines > 0 && !f.quiet)
    std::fprintf(stderr, "bertc embed: note: %s: %lld blank lines embedded as empty texts\n",
                 in.source.c_str(), static_cast<long long>(in.blank_lines));
  if (in.replaced_lines > 0)
    std::fprintf(stderr, "bertc embed: warning: %s: invalid UTF-8 replaced on %lld lines\n",
                 in.source.c_str(), static_cast<long long>(in.replaced_lines));

  Embedder embedder(file, f.device.backend_options(), f.max_tokens);
  EmbedResult result;
  result.dim = embedder.dim();
  double secs = 0;
  if (in.items.empty()) {
    std::fprintf(stderr, "bertc embed: warning: %s: no input texts; writing an empty (0, %lld) output\n",
                 in.source.c_str(), static_cast<long long>(result.dim));
    result.matrices.resize(opt.pools.size());
  } else {
    Progress progress("embedding", static_cast<int64_t>(in.items.size()), !f.quiet);
    opt.progress = [&](int64_t done, int64_t total) {
      progress.update(done * static_cast<int64_t>(in.items.size()) / std::max<int64_t>(total, 1));
    };
    // Timed from here: the model is loaded, so tokens/s is the embedding's own rate.
    const auto start = std::chrono::steady_clock::now();
    result = embedder.embed(in.items, opt);
    secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    progress.finish();
  }

  std::vector<std::vector<int32_t>> token_ids;
  std::vector<std::vector<std::string>> wordpieces;
  std::vector<NamedMatrix> mats;
  for (size_t c = 0; c < opt.pools.size(); ++c) mats.push_back({opt.pools[c].name, &result.matrices[c]});
  if (opt.token_states) {
    token_columns(embedder, in.items, result, opt.max_length, token_ids, wordpieces);
    mats.push_back({"tokens", nullptr, &result.token_states, &token_ids, &wordpieces});
  }
  outputs.write(mats, result.rows, result.dim);

  if (result.truncated > 0)
    std::fprintf(stderr, "bertc embed: %lld of %zu inputs truncated to %lld tokens "
                 "(--on-long error|window to change)\n",
                 static_cast<long long>(result.truncated), in.items.size(),
                 static_cast<long long>(opt.max_length));
  if (!f.quiet) {
    std::string pools, written;
    for (const PoolChoice& c : opt.pools) pools += (pools.empty() ? "" : ",") + c.name + (c.normalize ? "+norm" : "");
    if (opt.token_states) pools += pools.empty() ? "tokens" : ",tokens";
    for (const std::string& p : outputs.paths()) written += (written.empty() ? " -> " : ", ") + p;
    std::fprintf(stderr, "bertc embed: %zu texts, %lld tokens, %lld truncated, %lld windowed, "
                 "%.0f tokens/s, pool %s%s\n",
                 in.items.size(), static_cast<long long>(result.tokens),
                 static_cast<long long>(result.truncated), static_cast<long long>(result.windowed),
                 secs > 0 ? static_cast<double>(result.tokens) / secs : 0.0, pools.c_str(),
                 written.c_str());
  }
  return 0;
}

}  // namespace bertc
