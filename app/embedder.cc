// Embedder: tokenize, cut to the max length (truncate / error / window), pack length-sorted
// token-budget batches, run BertModel, pool, and scatter rows back to input order.
#include "app/embedder.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/error.h"
#include "engine/make_backend.h"
#include "common/strings.h"
#include "tokenizer/tokenizer.h"

namespace bertc {
namespace {

// One sequence the model runs: a whole input, its truncation, or one window of it.
struct Piece {
  std::vector<int32_t> ids;
  std::vector<int32_t> types;
  size_t input = 0;
};

int64_t line_of(const EmbedInput& in, size_t index) {
  return in.line > 0 ? in.line : static_cast<int64_t>(index) + 1;
}


}  // namespace

const char* pool_mode_name(PoolMode mode) {
  switch (mode) {
    case PoolMode::kPooled: return "pooled";
    case PoolMode::kMean: return "mean";
    case PoolMode::kCls: return "cls";
    case PoolMode::kMax: return "max";
  }
  return "?";
}

PoolMode pool_mode_from_config(const PoolingConfig& pooling, const std::string& origin) {
  if (pooling.mode == "mean") return PoolMode::kMean;
  if (pooling.mode == "cls") return PoolMode::kCls;
  if (pooling.mode == "max") return PoolMode::kMax;
  BERTC_FAIL(origin, ": sentence-transformers pooling mode '", pooling.mode,
             "' is not supported (mean, cls or max)");
}

std::vector<PoolChoice> parse_pool_choices(const std::string& spec, bool normalize,
                                           const ModelFile& model) {
  std::vector<PoolChoice> out;
  if (spec.find_first_not_of(", ") == std::string::npos)
    throw UsageError("--pool: no mode given (pooled, mean, cls, max or auto, comma-separated)");
  for (const std::string& word : split_list(spec)) {
    PoolChoice c;
    c.normalize = normalize;
    if (word == "auto") {
      if (const auto& p = model.pooling_config()) {
        c.mode = pool_mode_from_config(*p, model.path());
        c.normalize = normalize || p->normalize;
      } else {
        c.mode = PoolMode::kMean;
      }
    } else if (word == "pooled") {
      if (!model.find("pooler.dense.weight"))
        throw UsageError(str_cat("--pool pooled: ", model.path(),
                                 " has no pooler weights (use mean, cls, max or auto)"));
      c.mode = PoolMode::kPooled;
    } else if (word == "mean") {
      c.mode = PoolMode::kMean;
    } else if (word == "cls") {
      c.mode = PoolMode::kCls;
    } else if (word == "max") {
      c.mode = PoolMode::kMax;
    } else {
      throw UsageError(str_cat("--pool: unknown mode '", word,
                               "' (pooled, mean, cls, max or auto, comma-separated)"));
    }
    c.name = pool_mode_name(c.mode);
    const bool duplicate = std::any_of(out.begin(), out.end(), [&](const PoolChoice& o) {
      return o.mode == c.mode && o.normalize == c.normalize;
    });
    if (!duplicate) out.push_back(c);
  }
  return out;
}

int64_t default_max_length(const ModelFile& model) {
  const int64_t positions = model.bert_config().max_position_embeddings;
  if (const auto& p = model.pooling_config(); p && p->max_seq_length > 0)
    return std::min(p->max_seq_length, positions);
  // Hugging Face writes a huge model_max_length when a model sets none; the positions bound it.
  const int64_t tokenizer_max = model.tokenizer_config().model_max_length;
  return tokenizer_max > 0 ? std::min(tokenizer_max, positions) : positions;
}

Embedder::Embedder(std::shared_ptr<const ModelFile> model, const BackendOptions& backend,
                   int64_t max_tokens)
    : file_(std::move(model)) {
  tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::from_model(*file_));
  BackendOptions opt = backend;
  opt.max_tokens = max_tokens;
  opt.max_seqs = max_tokens;
  model_ = std::make_unique<BertModel>(WeightSource::from_file(file_), make_backend(opt),
                                       max_tokens);
}

Embedder::~Embedder() = default;


EmbedResult Embedder::embed(const std::vector<EmbedInput>& inputs, const EmbedOptions& options) {
  BERTC_CHECK(!inputs.empty(), "no input texts");
  BERTC_CHECK(!options.pools.empty() || options.token_states, "no pooling mode");
  BERTC_CHECK(!(options.token_states && options.on_long == OnLong::kWindow),
              "per-token outputs do not combine with --on-long window");
  const std::string& origin = file_->path();
  const int64_t positions = model_->config().max_position_embeddings;
  const int64_t max_len = options.max_length > 0 ? options.max_length : default_max_length();
  BERTC_CHECK(max_len >= 3 && max_len <= positions, origin, ": max length ", max_len,
              " must be between 3 and max_position_embeddings ", positions);
  const int64_t layers = model_->resolve_layer(options.layer);
  const int32_t cls = tokenizer_->cls_id(), sep = tokenizer_->sep_id();
  const int64_t window = max_len - 2;
  // [CLS] wordpieces[begin, end) [SEP], all segment 0.
  auto framed = [&](const std::vector<int32_t>& wp, int64_t begin, int64_t end, size_t input) {
    Piece p;
    p.input = input;
    p.ids.reserve(static_cast<size_t>(end - begin + 2));
    p.ids.push_back(cls);
    p.ids.insert(p.ids.end(), wp.begin() + begin, wp.begin() + end);
    p.ids.push_back(sep);
    p.types.assign(p.ids.size(), 0);
    return p;
  };
  const int64_t stride = options.stride > 0 ? options.stride : std::max<int64_t>(1, window / 2);
  BERTC_CHECK(stride <= window, "--stride ", stride, " exceeds the window of ", window,
              " tokens (max length minus [CLS] and [SEP])");

  EmbedResult result;
  result.rows = static_cast<int64_t>(inputs.size());
  result.dim = dim();

  // 1. Tokenize and cut every input into pieces of at most max_len tokens.
  std::vector<Piece> pieces;
  std::vector<int32_t> piece_count(inputs.size(), 0);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const EmbedInput& in = inputs[i];
    const int64_t line = line_of(in, i);
    if (in.pretokenized) {
      BERTC_CHECK(!in.input_ids.empty(), "line ", line, ": input_ids is empty");
      BERTC_CHECK(in.token_type_ids.empty() || in.token_type_ids.size() == in.input_ids.size(),
                  "line ", line, ": token_type_ids has ", in.token_type_ids.size(),
                  " entries, input_ids ", in.input_ids.size());
      for (int32_t id : in.input_ids)
        BERTC_CHECK(id >= 0 && id < model_->config().vocab_size, "line ", line, ": token id ",
                    id, " is out of range (vocab size ", model_->config().vocab_size, ")");
      for (int32_t t : in.token_type_ids)
        BERTC_CHECK(t >= 0 && t < model_->config().type_vocab_size, "line ", line,
                    ": token type id ", t, " is out of range");
      Piece p{in.input_ids, in.token_type_ids, i};
      if (p.types.empty()) p.types.assign(p.ids.size(), 0);
      if (static_cast<int64_t>(p.ids.size()) > max_len) {
        BERTC_CHECK(options.on_long == OnLong::kTruncate, "line ", line, ": ", p.ids.size(),
                    " tokens exceed the max length ", max_len,
                    options.on_long == OnLong::kWindow ? " (--on-long window needs text input)" : "");
        // Keep the final token ([SEP]) as a tokenizer's truncation would.
        p.ids[static_cast<size_t>(max_len - 1)] = p.ids.back();
        p.types[static_cast<size_t>(max_len - 1)] = p.types.back();
        p.ids.resize(static_cast<size_t>(max_len));
        p.types.resize(static_cast<size_t>(max_len));
        ++result.truncated;
      }
      pieces.push_back(std::move(p));
      piece_count[i] = 1;
      continue;
    }
    if (in.is_pair) {
      Encoding enc;
      try {
        enc = tokenizer_->encode_pair(in.text, in.text_b, max_len);
      } catch (const Error& e) {
        BERTC_FAIL("line ", line, ": ", e.what());
      }
      if (enc.truncated_tokens > 0) {
        BERTC_CHECK(options.on_long != OnLong::kError, "line ", line, ": ",
                    static_cast<int64_t>(enc.ids.size()) + enc.truncated_tokens,
                    " tokens exceed the max length ", max_len, " (--on-long error)");
        BERTC_CHECK(options.on_long != OnLong::kWindow, "line ", line,
                    ": --on-long window does not apply to pairs; use truncate or error");
        ++result.truncated;
      }
      pieces.push_back({std::move(enc.ids), std::move(enc.type_ids), i});
      piece_count[i] = 1;
      continue;
    }
    std::vector<int32_t> wp;
    try {
      tokenizer_->wordpieces(in.text, wp);
    } catch (const Error& e) {
      BERTC_FAIL("line ", line, ": ", e.what());
    }
    const auto n = static_cast<int64_t>(wp.size());
    if (n + 2 > max_len) {
      BERTC_CHECK(options.on_long != OnLong::kError, "line ", line, ": ", n + 2,
                  " tokens exceed the max length ", max_len, " (--on-long error)");
      if (options.on_long == OnLong::kWindow) {
        // Overlapping windows of `window` wordpieces, `stride` apart, the last one ending at the
        // text's end; the input's vector is the mean of the windows' vectors.
        for (int64_t start = 0;; start += stride) {
          const int64_t end = std::min(n, start + window);
          pieces.push_back(framed(wp, start, end, i));
          ++piece_count[i];
          if (end == n) break;
        }
        ++result.windowed;
        continue;
      }
      ++result.truncated;
    }
    pieces.push_back(framed(wp, 0, std::min(n, window), i));
    piece_count[i] = 1;
  }

  for (const Piece& p : pieces)
    BERTC_CHECK(static_cast<int64_t>(p.ids.size()) <= model_->max_tokens(), "line ",
                line_of(inputs[p.input], p.input), ": ", p.ids.size(),
                " tokens exceed the batch token budget ", model_->max_tokens());

  // 2. Length-sorted order, so a batch packs sequences of similar length (attention cost is
  // quadratic in T); ties keep input order, so the same input always runs the same way.
  std::vector<size_t> order(pieces.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return pieces[x].ids.size() > pieces[y].ids.size();
  });

  // 3. Token-budget batches; pooled rows are summed per input (windows), averaged, normalised.
  const int64_t H = dim();
  const size_t P = options.pools.size();
  std::vector<std::vector<double>> sums(P, std::vector<double>(inputs.size() * static_cast<size_t>(H), 0.0));
  std::vector<float> host;
  size_t next = 0;
  while (next < order.size()) {
    PackedBatch batch;
    std::vector<size_t> members;
    while (next < order.size()) {
      const Piece& p = pieces[order[next]];
      if (batch.num_seqs() > 0 &&
          batch.num_tokens() + static_cast<int64_t>(p.ids.size()) > model_->max_tokens())
        break;
      batch.add(p.ids, p.types);
      members.push_back(order[next]);
      ++next;
    }
    result.tokens += batch.num_tokens();
    const Tensor hidden = model_->encode(batch, layers);
    if (options.token_states) {
      model_->to_host(hidden, host);
      result.token_states.resize(inputs.size());
      for (size_t m = 0; m < members.size(); ++m) {
        const auto first = static_cast<size_t>(batch.cu_seqlens[m]) * static_cast<size_t>(H);
        const auto last = static_cast<size_t>(batch.cu_seqlens[m + 1]) * static_cast<size_t>(H);
        std::vector<float>& dst = result.token_states[pieces[members[m]].input];
        dst.assign(host.begin() + static_cast<std::ptrdiff_t>(first), host.begin() + static_cast<std::ptrdiff_t>(last));
        if (options.normalize_tokens) {
          for (size_t t = 0; t < dst.size(); t += static_cast<size_t>(H)) {
            double ss = 0;
            for (int64_t h = 0; h < H; ++h) ss += double{dst[t + h]} * dst[t + h];
            if (ss > 0)
              for (int64_t h = 0; h < H; ++h) dst[t + h] = static_cast<float>(dst[t + h] / std::sqrt(ss));
          }
        }
      }
    }
    for (size_t c = 0; c < P; ++c) {
      const Tensor out = model_->pool(hidden, options.pools[c].mode, false);
      model_->to_host(out, host);
      for (size_t m = 0; m < members.size(); ++m) {
        double* dst = sums[c].data() + pieces[members[m]].input * static_cast<size_t>(H);
        const float* src = host.data() + m * static_cast<size_t>(H);
        for (int64_t h = 0; h < H; ++h) dst[h] += src[h];
      }
    }
    if (options.progress) options.progress(static_cast<int64_t>(next), static_cast<int64_t>(order.size()));
  }

  result.matrices.resize(P);
  for (size_t c = 0; c < P; ++c) {
    std::vector<float>& mat = result.matrices[c];
    mat.resize(inputs.size() * static_cast<size_t>(H));
    for (size_t i = 0; i < inputs.size(); ++i) {
      const double* row = sums[c].data() + i * static_cast<size_t>(H);
      const double count = piece_count[i];
      double norm = 1.0;
      if (options.pools[c].normalize) {
        double ss = 0;
        for (int64_t h = 0; h < H; ++h) ss += (row[h] / count) * (row[h] / count);
        norm = ss > 0 ? std::sqrt(ss) : 1.0;  // a zero vector stays zero
      }
      for (int64_t h = 0; h < H; ++h)
        mat[i * static_cast<size_t>(H) + static_cast<size_t>(h)] = static_cast<float>(row[h] / count / norm);
    }
  }
  return result;
}

std::vector<float> Embedder::embed_texts(const std::vector<std::string>& texts,
                                         const PoolChoice& pool) {
  std::vector<EmbedInput> inputs(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) inputs[i].text = texts[i];
  EmbedOptions options;
  options.pools = {pool};
  return std::move(embed(inputs, options).matrices[0]);
}

}  // namespace bertc
