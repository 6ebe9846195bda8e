// The endpoints of `bertc serve` (see app/serve_api.h): request parsing with errors that name
// the field, the checks TEI makes (batch size, length), and the response shapes of OpenAI and TEI.
#include "app/serve_api.h"

#include <bit>
#include <cstring>
#include <future>

#include <nlohmann/json.hpp>

#include "app/search.h"
#include "app/serve_batcher.h"
#include "app/text_modes.h"
#include "bertc_version.h"
#include "common/error.h"
#include "common/strings.h"
#include "tokenizer/tokenizer.h"
#include "weights/model_file.h"

namespace bertc {

using nlohmann::json;

struct ServeApi::Prepared {
  std::vector<EmbedInput> inputs;  // pretokenized: [CLS] ... [SEP], at most max_length
  int64_t tokens = 0;
};

namespace {

json parse_body(const std::string& body) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    throw HttpError(400, str_cat("the request body is not valid JSON: ", e.what()));
  }
  if (!j.is_object()) throw HttpError(422, "the request body must be a JSON object");
  return j;
}

// j[key] as a bool/int/string, `fallback` when absent; a wrong type is a 422 naming the field.
bool get_bool(const json& j, const char* key, bool fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_boolean()) throw HttpError(422, str_cat("\"", key, "\" must be true or false"), key);
  return j[key].get<bool>();
}

int64_t get_int(const json& j, const char* key, int64_t fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_number_integer()) throw HttpError(422, str_cat("\"", key, "\" must be an integer"), key);
  return j[key].get<int64_t>();
}

std::string get_string(const json& j, const char* key, const std::string& fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_string()) throw HttpError(422, str_cat("\"", key, "\" must be a string"), key);
  return j[key].get<std::string>();
}

bool all_integers(const json& a) {
  for (const json& v : a)
    if (!v.is_number_integer()) return false;
  return true;
}

// `input`/`inputs`: a string, a list of strings, a list of token ids (one input) or a list of
// lists of token ids. Token ids are used as given, [CLS] and [SEP] included, as `bertc embed`'s
// {"input_ids"} lines.
std::vector<EmbedInput> parse_inputs(const json& j, const char* field, int64_t vocab_size) {
  if (!j.contains(field)) throw HttpError(422, str_cat("missing field \"", field, "\""), field);
  const json& v = j[field];
  const std::string what =
      str_cat("\"", field, "\" must be a string, a list of strings, a list of token ids or a list "
              "of lists of token ids");
  auto ids_input = [&](const json& a, const std::string& where) {
    EmbedInput in;
    in.pretokenized = true;
    if (a.empty()) throw HttpError(422, where + " is an empty list of token ids", field);
    for (const json& id : a) {
      if (!id.is_number_integer()) throw HttpError(422, what, field);
      const int64_t x = id.get<int64_t>();
      if (x < 0 || x >= vocab_size)
        throw HttpError(422, str_cat(where, ": token id ", x, " is out of range (vocab size ",
                                     vocab_size, ")"), field);
      in.input_ids.push_back(static_cast<int32_t>(x));
    }
    return in;
  };
  std::vector<EmbedInput> out;
  if (v.is_string()) {
    out.emplace_back();
    out.back().text = v.get<std::string>();
  } else if (v.is_array() && !v.empty() && all_integers(v)) {
    out.push_back(ids_input(v, field));
  } else if (v.is_array()) {
    if (v.empty()) throw HttpError(422, str_cat("\"", field, "\" is empty"), field);
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string where = str_cat(field, "[", i, "]");
      if (v[i].is_string()) {
        out.emplace_back();
        out.back().text = v[i].get<std::string>();
      } else if (v[i].is_array()) {
        out.push_back(ids_input(v[i], where));
      } else {
        throw HttpError(422, str_cat(where, ": ", what), field);
      }
    }
  } else {
    throw HttpError(422, what, field);
  }
  for (size_t i = 0; i < out.size(); ++i) out[i].line = static_cast<int64_t>(i) + 1;
  return out;
}

// A list of strings (or one string) under `key`.
std::vector<std::string> parse_texts(const json& j, const char* key) {
  if (!j.contains(key)) throw HttpError(422, str_cat("missing field \"", key, "\""), key);
  const json& v = j[key];
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
    return out;
  }
  if (!v.is_array()) throw HttpError(422, str_cat("\"", key, "\" must be a string or a list of strings"), key);
  if (v.empty()) throw HttpError(422, str_cat("\"", key, "\" is empty"), key);
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) throw HttpError(422, str_cat(key, "[", i, "] must be a string"), key);
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

void check_batch_size(size_t n, const ServeLimits& limits, const char* field) {
  if (static_cast<int64_t>(n) > limits.max_client_batch_size)
    throw HttpError(413, str_cat("batch size ", n, " is larger than the maximum of ",
                                 limits.max_client_batch_size, " (--max-client-batch-size)"), field);
}

void append_row(std::string& out, const float* row, int64_t dim) {
  out += '[';
  for (int64_t h = 0; h < dim; ++h) {
    if (h) out += ',';
    append_float(out, row[h]);
  }
  out += ']';
}

// OpenAI's encoding_format "base64": the float32 values' bytes, little-endian, in base64.
std::string base64_floats(const float* row, int64_t dim) {
  static_assert(std::endian::native == std::endian::little, "base64 embeddings are little-endian");
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const unsigned char*>(row);
  const size_t n = static_cast<size_t>(dim) * sizeof(float);
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (size_t i = 0; i < n; i += 3) {
    const uint32_t b = (uint32_t{p[i]} << 16) | (i + 1 < n ? uint32_t{p[i + 1]} << 8 : 0) |
                       (i + 2 < n ? uint32_t{p[i + 2]} : 0);
    out += kAlphabet[(b >> 18) & 63];
    out += kAlphabet[(b >> 12) & 63];
    out += i + 1 < n ? kAlphabet[(b >> 6) & 63] : '=';
    out += i + 2 < n ? kAlphabet[b & 63] : '=';
  }
  return out;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

ServeApi::ServeApi(ServeConfig config, ServeModels& models, EmbedBatcher& batcher)
    : config_(std::move(config)), models_(models), batcher_(batcher) {
  const ModelFile& file = *models_.bert_file;
  const std::vector<PoolChoice> pools = parse_pool_choices(config_.pool, false, file);
  BERTC_CHECK(pools.size() == 1, "--pool: give one mode (pooled, mean, cls, max or auto)");
  pool_ = pools.front();
  max_length_ = config_.max_length > 0 ? config_.max_length : models_.embedder->default_max_length();
  const BertConfig& c = file.bert_config();
  BERTC_CHECK(max_length_ >= 3 && max_length_ <= c.max_position_embeddings, file.path(),
              ": max length ", max_length_, " must be between 3 and max_position_embeddings ",
              c.max_position_embeddings);
  dim_ = c.hidden_size;
  vocab_size_ = c.vocab_size;
  type_vocab_size_ = c.type_vocab_size;
  if (models_.index) {
    for (const std::string& mode : models_.index->modes()) {
      if (mode == "w2v") {
        BERTC_CHECK(models_.w2v != nullptr, "--index: the index's mode w2v needs --w2v W2V.bertc");
        search_views_.push_back(
            models_.index->checked_view(mode, mode_fingerprint(models_.w2v->file(), mode)));
      } else {
        search_views_.push_back(models_.index->checked_view(mode, mode_fingerprint(file, mode)));
      }
      search_modes_.push_back(mode);
    }
  }
}

ServeApi::Prepared ServeApi::prepare(const std::vector<EmbedInput>& raw, bool truncate,
                                     const char* field) const {
  const Tokenizer& tokenizer = models_.embedder->tokenizer();
  Prepared p;
  p.inputs.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    EmbedInput in = raw[i];
    int64_t length = 0;
    if (!in.pretokenized) {
      // Tokenizer::encode frames and cuts as Embedder does for text, so the rows are the same.
      Encoding enc;
      try {
        enc = tokenizer.encode(in.text, max_length_);
      } catch (const Error& e) {
        throw HttpError(422, str_cat(field, "[", i, "]: ", e.what()), field, "tokenizer");
      }
      length = static_cast<int64_t>(enc.ids.size()) + enc.truncated_tokens;
      in.pretokenized = true;
      in.input_ids = std::move(enc.ids);
      in.text.clear();
    } else {
      length = static_cast<int64_t>(in.input_ids.size());
    }
    if (length > max_length_ && !truncate)
      throw HttpError(413, str_cat(field, "[", i, "] has ", length,
                                   " tokens, more than the maximum input length of ", max_length_,
                                   " (ask for truncation to cut it)"), field);
    // Ids over the max length are cut by Embedder (keeping the final [SEP]).
    p.tokens += std::min(length, max_length_);
    p.inputs.push_back(std::move(in));
  }
  return p;
}

std::vector<float> ServeApi::run(const Prepared& p, const PoolChoice& pool) const {
  std::future<std::vector<float>> rows;
  try {
    rows = batcher_.submit(p.inputs, p.tokens, pool, max_length_);
  } catch (const Error& e) {
    throw HttpError(503, e.what(), "", "unhealthy");
  }
  return rows.get();
}

std::string ServeApi::embeddings(const std::string& body) const {
  const json j = parse_body(body);
  const std::vector<EmbedInput> raw = parse_inputs(j, "input", vocab_size_);
  check_batch_size(raw.size(), config_.limits, "input");
  get_string(j, "model", "");
  get_string(j, "user", "");
  const std::string format = get_string(j, "encoding_format", "float");
  if (format != "float" && format != "base64")
    throw HttpError(422, "\"encoding_format\" must be \"float\" or \"base64\"", "encoding_format");
  const int64_t dimensions = get_int(j, "dimensions", dim_);
  if (dimensions != dim_)
    throw HttpError(400, str_cat("\"dimensions\": this model gives ", dim_,
                                 "-dimensional embeddings and was not trained to be shortened "
                                 "(Matryoshka), so its vectors cannot be cut to ", dimensions,
                                 "; omit \"dimensions\" or pass ", dim_), "dimensions");
  const Prepared p = prepare(raw, config_.auto_truncate, "input");
  // OpenAI's embeddings have unit length, as TEI's OpenAI route does.
  PoolChoice pool = pool_;
  pool.normalize = true;
  const std::vector<float> rows = run(p, pool);
  std::string out = "{\"object\":\"list\",\"data\":[";
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    if (i) out += ',';
    out += str_cat("{\"object\":\"embedding\",\"index\":", i, ",\"embedding\":");
    const float* row = rows.data() + i * static_cast<size_t>(dim_);
    if (format == "base64") {
      out += '"';
      out += base64_floats(row, dim_);
      out += '"';
    } else {
      append_row(out, row, dim_);
    }
    out += '}';
  }
  out += "],\"model\":";
  out += dump(config_.model_name);
  out += str_cat(",\"usage\":{\"prompt_tokens\":", p.tokens, ",\"total_tokens\":", p.tokens, "}}");
  return out;
}

std::string ServeApi::embed(const std::string& body) const {
  const json j = parse_body(body);
  const std::vector<EmbedInput> raw = parse_inputs(j, "inputs", vocab_size_);
  check_batch_size(raw.size(), config_.limits, "inputs");
  PoolChoice pool = pool_;
  pool.normalize = get_bool(j, "normalize", true);
  const bool truncate = get_bool(j, "truncate", config_.auto_truncate);
  const std::string direction = get_string(j, "truncation_direction", "Right");
  if (direction != "Right" && direction != "right")
    throw HttpError(422, "\"truncation_direction\": only \"Right\" is supported", "truncation_direction");
  const Prepared p = prepare(raw, truncate, "inputs");
  const std::vector<float> rows = run(p, pool);
  std::string out = "[";
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    if (i) out += ',';
    append_row(out, rows.data() + i * static_cast<size_t>(dim_), dim_);
  }
  return out + "]";
}

std::string ServeApi::similarity(const std::string& body) const {
  const json j = parse_body(body);
  if (!j.contains("inputs") || !j["inputs"].is_object())
    throw HttpError(422, "\"inputs\" must be an object {\"source_sentence\", \"sentences\"}", "inputs");
  const json& in = j["inputs"];
  const std::string source = get_string(in, "source_sentence", "");
  if (!in.contains("source_sentence"))
    throw HttpError(422, "missing field \"inputs.source_sentence\"", "source_sentence");
  const std::vector<std::string> sentences = parse_texts(in, "sentences");
  check_batch_size(sentences.size(), config_.limits, "sentences");
  std::vector<EmbedInput> raw(sentences.size() + 1);
  raw[0].text = source;
  for (size_t i = 0; i < sentences.size(); ++i) raw[i + 1].text = sentences[i];
  const Prepared p = prepare(raw, get_bool(j, "truncate", config_.auto_truncate), "sentences");
  // As `bertc similarity`: the pooling without normalisation, then cosines in double precision.
  PoolChoice pool = pool_;
  pool.normalize = false;
  const std::vector<float> rows = run(p, pool);
  const std::vector<float> cos = cosine_matrix(rows.data(), 1, rows.data() + dim_,
                                               static_cast<int64_t>(sentences.size()), dim_);
  std::string out = "[";
  for (size_t i = 0; i < cos.size(); ++i) {
    if (i) out += ',';
    append_float(out, cos[i]);
  }
  return out + "]";
}

std::string ServeApi::search(const std::string& body) const {
  if (!models_.index)
    throw HttpError(404, "this server has no index (start bertc serve with --index DIR)");
  const json j = parse_body(body);
  std::vector<std::string> queries;
  if (j.contains("query") == j.contains("queries"))
    throw HttpError(422, "give \"query\" (a string) or \"queries\" (a list of strings)", "query");
  if (j.contains("query")) {
    if (!j["query"].is_string()) throw HttpError(422, "\"query\" must be a string", "query");
    queries.push_back(j["query"].get<std::string>());
  } else {
    queries = parse_texts(j, "queries");
  }
  check_batch_size(queries.size(), config_.limits, "queries");
  const int64_t k = get_int(j, "k", 5);
  if (k < 1) throw HttpError(422, "\"k\" must be >= 1", "k");
  std::vector<size_t> modes;  // indexes into search_modes_
  if (j.contains("modes") && !j["modes"].is_null()) {
    for (const std::string& name : parse_texts(j, "modes")) {
      const auto it = std::find(search_modes_.begin(), search_modes_.end(), name);
      if (it == search_modes_.end()) {
        std::string have;
        for (const std::string& m : search_modes_) have += (have.empty() ? "" : ", ") + m;
        throw HttpError(422, str_cat("\"modes\": the index has no mode '", name, "' (it has ", have, ")"), "modes");
      }
      modes.push_back(static_cast<size_t>(it - search_modes_.begin()));
    }
  } else {
    for (size_t m = 0; m < search_modes_.size(); ++m) modes.push_back(m);
  }
  std::vector<EmbedInput> raw(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) raw[i].text = queries[i];
  // Queries are cut to the max length, as `bertc search` does.
  const Prepared p = prepare(raw, true, "queries");
  const SearchIndex& index = *models_.index;
  // hits[m][q]: the top-k of query q in mode modes[m], as `bertc search --index` finds them.
  std::vector<std::vector<std::vector<SearchHit>>> hits;
  for (size_t m : modes) {
    const std::string& name = search_modes_[m];
    const CorpusView& view = search_views_[m];
    std::vector<float> q;
    if (name == "w2v") {
      q.resize(queries.size() * static_cast<size_t>(view.dim));
      for (size_t i = 0; i < queries.size(); ++i)
        sentence_vector(*models_.w2v, queries[i], q.data() + i * static_cast<size_t>(view.dim));
    } else {
      q = run(p, parse_pool_choices(name, false, *models_.bert_file).front());
    }
    hits.push_back(top_k(view, q.data(), static_cast<int64_t>(queries.size()), k, config_.threads));
  }
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (size_t qi = 0; qi < queries.size(); ++qi) {
    nlohmann::ordered_json r;
    r["query"] = queries[qi];
    nlohmann::ordered_json by_mode = nlohmann::ordered_json::object();
    for (size_t m = 0; m < modes.size(); ++m) {
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (size_t rank = 0; rank < hits[m][qi].size(); ++rank) {
        const SearchHit& h = hits[m][qi][rank];
        nlohmann::ordered_json e;
        e["rank"] = rank + 1;
        e["index"] = h.index;
        e["score"] = h.score;
        e["text"] = index.texts()[static_cast<size_t>(h.index)];
        if (!index.ids().empty()) e["id"] = index.ids()[static_cast<size_t>(h.index)];
        list.push_back(std::move(e));
      }
      by_mode[search_modes_[modes[m]]] = std::move(list);
    }
    r["modes"] = std::move(by_mode);
    results.push_back(std::move(r));
  }
  nlohmann::ordered_json out;
  out["results"] = std::move(results);
  return out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string ServeApi::tokenize(const std::string& body) const {
  const json j = parse_body(body);
  const std::vector<std::string> texts = parse_texts(j, "inputs");
  check_batch_size(texts.size(), config_.limits, "inputs");
  const bool specials = get_bool(j, "add_special_tokens", true);
  const Tokenizer& tok = models_.embedder->tokenizer();
  const int32_t special_ids[] = {tok.cls_id(), tok.sep_id(), tok.pad_id(), tok.unk_id(), tok.mask_id()};
  json out = json::array();
  for (size_t i = 0; i < texts.size(); ++i) {
    std::vector<int32_t> ids;
    if (specials) ids.push_back(tok.cls_id());
    try {
      tok.wordpieces(texts[i], ids);
    } catch (const Error& e) {
      throw HttpError(422, str_cat("inputs[", i, "]: ", e.what()), "inputs", "tokenizer");
    }
    if (specials) ids.push_back(tok.sep_id());
    json list = json::array();
    for (int32_t id : ids) {
      const bool special = std::find(std::begin(special_ids), std::end(special_ids), id) != std::end(special_ids);
      list.push_back(json{{"id", id}, {"text", tok.vocab().token(id)}, {"special", special}});
    }
    out.push_back(std::move(list));
  }
  return dump(out);
}

std::string ServeApi::info(const std::string& kernels) const {
  const ModelFile& file = *models_.bert_file;
  nlohmann::ordered_json j;
  j["model_id"] = config_.model_name;
  j["model_path"] = file.path();
  j["model_type"] = {{"embedding", {{"pooling", pool_.name}}}};
  j["dim"] = dim_;
  j["max_input_length"] = max_length_;
  j["pooling"] = pool_.name;
  j["normalize"] = pool_.normalize;
  j["device"] = config_.device;
  j["dtype"] = config_.dtype;
  j["kernels"] = kernels;
  j["max_concurrent_requests"] = config_.limits.max_concurrent_requests;
  j["max_batch_tokens"] = config_.limits.max_batch_tokens;
  j["max_client_batch_size"] = config_.limits.max_client_batch_size;
  j["payload_limit"] = config_.limits.payload_limit_bytes;
  j["auto_truncate"] = config_.auto_truncate;
  if (models_.index) {
    j["index"] = {{"modes", search_modes_}, {"documents", models_.index->texts().size()}};
  } else {
    j["index"] = nullptr;
  }
  j["w2v"] = models_.w2v ? json(models_.w2v->file().path()) : json(nullptr);
  j["version"] = BERTC_VERSION;
  j["sha"] = BERTC_GIT_COMMIT;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace bertc
