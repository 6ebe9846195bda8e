// bertc tokenize: wordpieces and ids for TEXT arguments, stdin lines, or JSON Lines whose output
// fields match tests/data/tokenizer/cases.jsonl and pairs.jsonl (diffable). Tested in
// tests/cli/tokenize_cli_test.cc.
#include <cstdio>
#include <iostream>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "tokenizer/tokenizer.h"
#include "common/utf8.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "weights/model_file.h"
#include "app/model_path.h"

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

  void add(const std::string& where, const Encoding& e) {
    ++inputs;
    if (e.truncated_tokens == 0) return;
    ++truncated_inputs;
    dropped_tokens += e.truncated_tokens;
    constexpr int64_t kReportedLines = 10;  // then only the summary counts them
    if (truncated_inputs <= kReportedLines) {
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

void flush(std::string& out) {
  if (out.empty()) return;
  BERTC_CHECK(std::fwrite(out.data(), 1, out.size(), stdout) == out.size(),
              "stdout: write failed");
  out.clear();
}

}  // namespace

int run_tokenize(const Args& args) {
  CLI::App app{"Split text into BERT wordpieces and ids ([CLS] text [SEP], or [CLS] a [SEP] b [SEP]\n"
               "for --jsonl pairs). Inputs: TEXT arguments, else stdin, one input per line.\n"
               "Output: one line per input, \"wordpieces<TAB>ids\" (ids with [CLS]/[SEP]), or JSON\n"
               "with --jsonl. Truncations are reported on stderr.",
               "bertc tokenize"};
  std::string model_path, vocab_path, utf8_errors = "error";
  bool cased = false, jsonl = false, special_as_text = false;
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
                 "tokens per input with specials, longer ones truncated and reported "
                 "(default: the model's max, 512 with --vocab; 0: no limit)")
      ->group("Tokenizer");
  app.add_flag("--special-as-text", special_as_text,
               "tokenize \"[CLS]\" etc. in the text like any text (Google BERT), "
               "instead of mapping them to their ids (Hugging Face)")
      ->group("Tokenizer");
  app.add_option("--utf8-errors", utf8_errors,
                 "invalid UTF-8: 'error' stops naming the line and byte, 'replace' drops the bad "
                 "bytes (U+FFFD, then BERT's clean-up)")
      ->check(CLI::IsMember({"error", "replace"}))->group("Input")->capture_default_str();
  app.add_flag("--jsonl", jsonl,
               "stdin lines are JSON objects with \"text\" or \"text_a\" + \"text_b\"; output "
               "lines are {\"tokens\", \"ids\"} or {\"ids\", \"token_type_ids\", \"tokens_a\", "
               "\"tokens_b\"}")
      ->group("Input");
  app.add_option("TEXT", texts, "texts to tokenize (default: read stdin)")->group("Input");
  // CLI11 reads an argument written "[...]" as a list and splits it on commas, but a TEXT like
  // "[CLS]" must stay as typed: such arguments go through the parser behind a marker byte.
  constexpr char kMarker = '\x1f';
  Args marked = args;
  for (std::string& a : marked) {
    if (a.size() >= 2 && a.front() == '[' && a.back() == ']') a.insert(a.begin(), kMarker);
  }
  if (!parse_args(app, marked)) return 0;
  for (std::string* s : {&model_path, &vocab_path}) {
    if (!s->empty() && s->front() == kMarker) s->erase(0, 1);
  }
  for (std::string& t : texts) {
    if (!t.empty() && t.front() == kMarker) t.erase(0, 1);
  }
  if (jsonl && !texts.empty()) throw UsageError("--jsonl reads stdin; give no TEXT arguments");
  if (max_length && *max_length < 0) throw UsageError("--max-length must be >= 0");

  int64_t default_max_length = 512;
  Tokenizer tokenizer = [&] {
    if (!vocab_path.empty()) {
      TokenizerOptions options;
      options.lower_case = options.strip_accents = !cased;
      return Tokenizer(Vocab::from_file(vocab_path), options);
    }
    if (model_path.empty()) model_path = default_model_path();
    const auto model = ModelFile::open(model_path);
    BERTC_CHECK(model->kind() == ModelKind::kBert, model_path,
                ": a word2vec model has no WordPiece tokenizer (use a BERT model or --vocab)");
    default_max_length = model->tokenizer_config().model_max_length;
    // HF writes a huge model_max_length when a model sets none; the position table bounds it.
    const int64_t positions = model->bert_config().max_position_embeddings;
    if (positions > 0 && (default_max_length <= 0 || default_max_length > positions)) {
      default_max_length = positions;
    }
    return Tokenizer::from_model(*model);
  }();
  tokenizer.set_special_literals(!special_as_text);
  tokenizer.set_replace_invalid_utf8(utf8_errors == "replace");

  TruncationLog log;
  log.max_length = max_length.value_or(default_max_length);
  std::string out;
  constexpr size_t kFlushBytes = size_t(1) << 16;

  if (!texts.empty()) {
    for (size_t i = 0; i < texts.size(); ++i) {
      const std::string where = str_cat("argument ", i + 1);
      const Encoding e = with_context(where, [&] { return tokenizer.encode(texts[i], log.max_length); });
      log.add(where, e);
      append_plain(tokenizer, e, out);
    }
    flush(out);
    log.summary();
    return 0;
  }

  std::string line;
  for (int64_t line_no = 1; std::getline(std::cin, line); ++line_no) {
    const std::string where = str_cat("stdin line ", line_no);
    if (!jsonl) {
      const Encoding e = with_context(where, [&] { return tokenizer.encode(line, log.max_length); });
      log.add(where, e);
      append_plain(tokenizer, e, out);
    } else {
      // The JSON parser would reject invalid UTF-8 with a vaguer message: check the raw line.
      std::string fixed;
      if (const Utf8Problem bad = find_invalid_utf8(line)) {
        BERTC_CHECK(tokenizer.options().replace_invalid_utf8, where, ": invalid UTF-8 at byte offset ",
                    bad.offset_bytes, " (", bad.reason, ")");
        fixed = replace_invalid_utf8(line);
      }
      nlohmann::json row;
      try {
        row = nlohmann::json::parse(fixed.empty() ? line : fixed);
      } catch (const nlohmann::json::exception& e) {
        BERTC_FAIL(where, ": not valid JSON (", e.what(), ")");
      }
      auto field = [&](const char* name) -> std::optional<std::string> {
        if (!row.is_object() || !row.contains(name)) return std::nullopt;
        BERTC_CHECK(row[name].is_string(), where, ": \"", name, "\" is not a string");
        return row[name].get<std::string>();
      };
      const auto text = field("text"), a = field("text_a"), b = field("text_b");
      BERTC_CHECK(text.has_value() != (a.has_value() || b.has_value()) && a.has_value() == b.has_value(),
                  where, ": expected a JSON object with \"text\", or with \"text_a\" and \"text_b\"");
      const Encoding e = with_context(where, [&] {
        return text ? tokenizer.encode(*text, log.max_length)
                    : tokenizer.encode_pair(*a, *b, log.max_length);
      });
      log.add(where, e);
      append_jsonl(tokenizer, e, !text, out);
    }
    if (out.size() > kFlushBytes) flush(out);
  }
  BERTC_CHECK(!std::cin.bad(), "stdin: read error");
  flush(out);
  log.summary();
  return 0;
}

}  // namespace bertc
