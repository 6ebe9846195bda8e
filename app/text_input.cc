// Reading texts for every command (app/text_input.h).
#include "app/text_input.h"

#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/utf8.h"

namespace bertc {
namespace {

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r") == std::string::npos; }

std::vector<int32_t> int_list(const nlohmann::json& j, const char* key, const std::string& where) {
  BERTC_CHECK(j.is_array(), where, ": \"", key, "\" must be an array of integers");
  std::vector<int32_t> out;
  for (const auto& v : j) {
    BERTC_CHECK(v.is_number_integer(), where, ": \"", key, "\" must be an array of integers");
    out.push_back(v.get<int32_t>());
  }
  return out;
}

// One JSON line: {"text", "id"?}, and with allow_pairs_and_ids also {"text_a", "text_b"} or
// {"input_ids", "token_type_ids"?}. Sets *id (and *has_id) from "id".
EmbedInput parse_json_line(const std::string& line, const std::string& where,
                           const InputOptions& options, std::string* id, bool* has_id) {
  BERTC_CHECK(!blank(line), where, ": blank line (JSON lines need one object per line)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    BERTC_FAIL(where, ": invalid JSON (", e.what(), ")");
  }
  BERTC_CHECK(j.is_object(), where, ": expected a JSON object");
  *has_id = j.contains("id");
  if (*has_id) *id = j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump();
  auto text = [&](const char* key) {
    BERTC_CHECK(j[key].is_string(), where, ": \"", key, "\" must be a string");
    return j[key].get<std::string>();
  };
  const char* expected = options.allow_pairs_and_ids
                             ? ": expected {\"text\"}, {\"text_a\", \"text_b\"} or {\"input_ids\"}"
                             : ": expected an object with a string \"text\" (and an optional \"id\")";
  EmbedInput in;
  if (options.allow_pairs_and_ids && j.contains("input_ids")) {
    in.pretokenized = true;
    in.input_ids = int_list(j["input_ids"], "input_ids", where);
    if (j.contains("token_type_ids"))
      in.token_type_ids = int_list(j["token_type_ids"], "token_type_ids", where);
  } else if (options.allow_pairs_and_ids && (j.contains("text_a") || j.contains("text_b"))) {
    BERTC_CHECK(j.contains("text_a") && j.contains("text_b"), where,
                ": a pair needs both \"text_a\" and \"text_b\"");
    in.text = text("text_a");
    in.text_b = text("text_b");
    in.is_pair = true;
  } else {
    BERTC_CHECK(j.contains("text"), where, expected);
    in.text = text("text");
  }
  return in;
}

// Appends one line's input to `out` (line number `n`, messages naming `where`).
void add_line(std::string line, int64_t n, const std::string& where, bool jsonl,
              const InputOptions& options, TextInputs& out) {
  bool replaced = false;
  line = checked_utf8(std::move(line), where, options.replace_invalid_utf8, &replaced);
  out.replaced_lines += replaced;
  EmbedInput in;
  if (jsonl) {
    std::string id;
    bool has_id = false;
    in = parse_json_line(line, where, options, &id, &has_id);
    // "id" on every line or on none, so ids[i] always belongs to items[i].
    BERTC_CHECK(has_id ? out.ids.size() == out.items.size() : out.ids.empty(), where,
                ": \"id\" must be on every line or none");
    if (has_id) out.ids.push_back(std::move(id));
  } else {
    out.blank_lines += blank(line);
    in.text = std::move(line);
  }
  in.line = n;
  out.items.push_back(std::move(in));
}

}  // namespace

InputFormat parse_input_format(const std::string& name, const std::string& flag) {
  if (name == "auto") return InputFormat::kAuto;
  if (name == "text") return InputFormat::kText;
  if (name == "jsonl") return InputFormat::kJsonl;
  throw UsageError(str_cat(flag, ": unknown format '", name, "' (auto, text or jsonl)"));
}

std::vector<std::string> TextInputs::texts() const {
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const EmbedInput& in : items) out.push_back(in.text);
  return out;
}

std::string checked_utf8(std::string text, const std::string& where, bool replace, bool* replaced) {
  const Utf8Problem bad = find_invalid_utf8(text);
  if (!bad) return text;
  BERTC_CHECK(replace, where, ": invalid UTF-8 at byte ", bad.offset_bytes + 1, " (", bad.reason,
              "; --utf8-errors replace to go on)");
  if (replaced) *replaced = true;
  return replace_invalid_utf8(text);
}

TextInputs read_text_inputs(const std::string& path, const InputOptions& options) {
  const bool from_stdin = path.empty() || path == "-";
  TextInputs out;
  out.source = from_stdin ? "<stdin>" : path;
  const bool jsonl = options.format == InputFormat::kJsonl ||
                     (options.format == InputFormat::kAuto && !from_stdin && path.ends_with(".jsonl"));
  out.jsonl = jsonl;
  std::ifstream file;
  if (!from_stdin) {
    file.open(path, std::ios::binary);
    BERTC_CHECK(file, path, ": cannot open");
  }
  std::istream& in = from_stdin ? std::cin : file;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    add_line(std::move(line), n, str_cat(out.source, ":", n), jsonl, options, out);
  }
  BERTC_CHECK(!in.bad(), out.source, ": read error");
  return out;
}

TextInputs text_inputs_from_args(const std::vector<std::string>& args, const InputOptions& options) {
  TextInputs out;
  out.source = "arguments";
  out.jsonl = options.format == InputFormat::kJsonl;
  for (size_t i = 0; i < args.size(); ++i)
    add_line(args[i], static_cast<int64_t>(i) + 1, str_cat("argument ", i + 1), out.jsonl, options, out);
  return out;
}

}  // namespace bertc
