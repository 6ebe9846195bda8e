// bertc tokenize: wordpieces and ids for TEXT arguments, a file or stdin (read by
// app/text_input.h), plain lines or JSON Lines whose output fields match
// tests/data/tokenizer/cases.jsonl and pairs.jsonl (diffable). Tested in
// tests/cli/tokenize_cli_test.cc.
#include <cstdio>
#include <iostream>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/embedder.h"
#include "app/model_path.h"
#include "app/text_input.h"
#include "common/error.h"
#include "common/output_file.h"
#include "tokenizer/tokenizer.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "weights/model_file.h"

namespace bertc {
namespace {

// JSON the way Python's json.dumps(ensure_ascii=False) writes it (", " and ": " separators, only
// control characters escaped), so output lines can be compared with the fixtures byte for byte.
void append_json_string(std::string_view s, std::string& out) {
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void append_json_field(const char* name, std::string& out) {
  if (out.back() != '{') out += ", ";
  out += '"';
  out += name;
  out += "\": ";
}

void append_json_tokens(const Tokenizer& tok, const int32_t* ids, size_t n, std::string& out) {
  out.push_back('[');
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ", ";
    append_json_string(tok.vocab().token(ids[i]), out);
  }
  out.push_back(']');
}

void append_json_ints(const std::vector<int32_t>& v, std::string& out) {
  out.push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(v[i]);
  }
  out.push_back(']');
}

struct TruncationLog {
  int64_t max_length = 0;
  int64_t inputs = 0;
  int64_t truncated_inputs = 0;
  int64_t dropped_tokens = 0;
  bool per_input = true;  // a line for each of the first truncated inputs

  void add(const std::string& where, const Encoding& e) {
    ++inputs;
    if (e.truncated_tokens == 0) return;
    ++truncated_inputs;
    dropped_tokens += e.truncated_tokens;
    constexpr int64_t kReportedLines = 10;  // then only the summary counts them
    if (per_input && truncated_inputs <= kReportedLines) {
      std::fprintf(stderr, "bertc tokenize: %s: truncated to %lld tokens (%lld wordpieces dropped)\n",
                   where.c_str(), static_cast<long long>(max_length),
                   static_cast<long long>(e.truncated_tokens));
    }
  }
  void summary() const {
    if (truncated_inputs == 0) return;
    std::fprintf(stderr,
                 "bertc tokenize: truncated %lld of %lld inputs to --max-length %lld "
                 "(%lld wordpieces dropped)\n",
                 static_cast<long long>(truncated_inputs), static_cast<long long>(inputs),
                 static_cast<long long>(max_length), static_cast<long long>(dropped_tokens));
  }
};

// Tokenizer errors (invalid UTF-8 and the like) get the input's position in front.
template <typename F>
auto with_context(const std::string& where, F&& f) {
  try {
    return f();
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
}

// One plain-text input: "wordpieces<TAB>ids", the ids with [CLS] and [SEP].
void append_plain(const Tokenizer& tok, const Encoding& e, std::string& out) {
  for (size_t i = 1; i + 1 < e.ids.size(); ++i) {
    if (i > 1) out.push_back(' ');
    out += tok.vocab().token(e.ids[i]);
  }
  out.push_back('\t');
  for (size_t i = 0; i < e.ids.size(); ++i) {
    if (i) out.push_back(' ');
    out += std::to_string(e.ids[i]);
  }
  out.push_back('\n');
}

void append_jsonl(const Tokenizer& tok, const Encoding& e, bool pair, std::string& out) {
  out.push_back('{');
  if (!pair) {
    append_json_field("tokens", out);
    append_json_tokens(tok, e.ids.data() + 1, e.ids.size() - 2, out);
    append_json_field("ids", out);
    append_json_ints(e.ids, out);
  } else {
    // [CLS] a [SEP] have type 0, b [SEP] type 1.
    size_t type0 = 0;
    while (type0 < e.type_ids.size() && e.type_ids[type0] == 0) ++type0;
    append_json_field("ids", out);
    append_json_ints(e.ids, out);
    append_json_field("token_type_ids", out);
    append_json_ints(e.type_ids, out);
    append_json_field("tokens_a", out);
    append_json_tokens(tok, e.ids.data() + 1, type0 - 2, out);
    append_json_field("tokens_b", out);
    append_json_tokens(tok, e.ids.data() + type0, e.ids.size() - type0 - 1, out);
  }
  out += "}\n";
}

}  // namespace

int run_tokenize(const Args& args) {
  CLI::App app{"Split text into BERT wordpieces and ids ([CLS] text [SEP], or [CLS] a [SEP] b [SEP]\n"
               "for JSON-lines pairs). Inputs: TEXT arguments, else -i FILE, else stdin, one input\n"
               "per line. Output: one line per input, \"wordpieces<TAB>ids\" (ids with [CLS]/[SEP]),\n"
               "or JSON lines for JSON-lines input. Truncations are reported on stderr.",
               "bertc tokenize"};
  std::string model_path, vocab_path, input, out_path;
  InputFlags input_flags;
  bool cased = false, jsonl_flag = false, special_as_text = false, quiet = false;
  std::optional<int64_t> max_length;
  std::vector<std::string> texts;
  auto* model_opt = app.add_option("-m,--model", model_path,
                                   "the .bertc model (default: " + default_model_path() + ")")
                        ->group("Model");
  auto* vocab_opt = app.add_option("--vocab", vocab_path, "a vocab.txt instead of a model")
                        ->group("Model")->excludes(model_opt);
  app.add_flag("--cased", cased, "with --vocab: keep case and accents (do_lower_case=false)")
      ->group("Model")->needs(vocab_opt);
  app.add_option("--max-length", max_length,
                 "tokens per input with specials, longer ones truncated and reported (default: "
                 "what bertc embed uses: sentence-transformers max_seq_length, else the model's "
                 "max; 512 with --vocab; 0: no limit)")
      ->group("Tokenizer");
  app.add_flag("--special-as-text", special_as_text,
               "tokenize \"[CLS]\" etc. in the text like any text (Google BERT), "
               "instead of mapping them to their ids (Hugging Face)")
      ->group("Tokenizer");
  app.add_option("-i,--input", input,
                 "input file, one input per line ('-' = stdin); FILE.jsonl holds {\"text\"} or "
                 "{\"text_a\", \"text_b\"} objects, and the output is then JSON lines "
                 "({\"tokens\", \"ids\"} or {\"ids\", \"token_type_ids\", \"tokens_a\", "
                 "\"tokens_b\"})")
      ->group("Input");
  add_input_flags(app, input_flags);
  app.add_flag_callback("--jsonl", [&] {
        std::fprintf(stderr, "bertc tokenize: note: --jsonl is deprecated, use --input-format jsonl\n");
        jsonl_flag = true;
      }, "deprecated spelling of --input-format jsonl")->group("");
  app.add_option("TEXT", texts, "texts to tokenize (default: -i FILE, else stdin)")->group("Input");
  app.add_flag("-q,--quiet", quiet, "only the truncation summary, not a line per truncated input")
      ->group("Output");
  app.add_option("-o,--output", out_path,
                 "output file (a temp file renamed over it when complete; FIFOs and devices are "
                 "written directly); default: stdout")->group("Output");
  // CLI11 reads an argument written "[...]" as a list and splits it on commas, but a TEXT like
  // "[CLS]" must stay as typed: such arguments go through the parser behind a marker byte.
  constexpr char kMarker = '\x1f';
  Args marked = args;
  for (std::string& a : marked) {
    if (a.size() >= 2 && a.front() == '[' && a.back() == ']') a.insert(a.begin(), kMarker);
  }
  if (!parse_args(app, marked)) return 0;
  for (std::string* s : {&model_path, &vocab_path, &input, &out_path}) {
    if (!s->empty() && s->front() == kMarker) s->erase(0, 1);
  }
  for (std::string& t : texts) {
    if (!t.empty() && t.front() == kMarker) t.erase(0, 1);
  }
  if (!texts.empty() && !input.empty()) throw UsageError("give TEXT arguments or -i FILE, not both");
  if (max_length && *max_length < 0) throw UsageError("--max-length must be >= 0");
  InputOptions input_options = input_flags.options();
  if (jsonl_flag) input_options.format = InputFormat::kJsonl;
  input_options.allow_pairs_and_ids = true;
  OutputFile out_file(out_path.empty() ? "-" : out_path);

  int64_t default_max_length = 512;
  Tokenizer tokenizer = [&] {
    if (!vocab_path.empty()) {
      TokenizerOptions options;
      options.lower_case = options.strip_accents = !cased;
      return Tokenizer(Vocab::from_file(vocab_path), options);
    }
    const auto model = open_bert_model(model_path.empty() ? default_model_path() : model_path);
    default_max_length = bertc::default_max_length(*model);
    return Tokenizer::from_model(*model);
  }();
  tokenizer.set_special_literals(!special_as_text);
  tokenizer.set_replace_invalid_utf8(input_options.replace_invalid_utf8);

  if (texts.empty() && (input.empty() || input == "-")) hint_reading_stdin("bertc tokenize", "texts");
  const TextInputs in = texts.empty() ? read_text_inputs(input, input_options)
                                      : text_inputs_from_args(texts, input_options);
  TruncationLog log;
  log.max_length = max_length.value_or(default_max_length);
  log.per_input = !quiet;
  std::string out;
  constexpr size_t kFlushBytes = size_t(1) << 16;
  for (const EmbedInput& item : in.items) {
    const std::string where = texts.empty() ? str_cat(in.source, ":", item.line)
                                            : str_cat("argument ", item.line);
    BERTC_CHECK(!item.pretokenized, where, ": tokenize takes {\"text\"} or {\"text_a\", \"text_b\"}, "
                "not token ids");
    const Encoding e = with_context(where, [&] {
      return item.is_pair ? tokenizer.encode_pair(item.text, item.text_b, log.max_length)
                          : tokenizer.encode(item.text, log.max_length);
    });
    log.add(where, e);
    if (in.jsonl)
      append_jsonl(tokenizer, e, item.is_pair, out);
    else
      append_plain(tokenizer, e, out);
    if (out.size() > kFlushBytes) {
      out_file.write(out.data(), out.size());
      out.clear();
    }
  }
  out_file.write(out.data(), out.size());
  out_file.commit();
  log.summary();
  return 0;
}

}  // namespace bertc
