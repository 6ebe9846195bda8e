// Reference bundle loading and comparison (see app/reference.h). Differences are taken in
// double over real positions only: padded positions hold whatever padded BERT computes there.
#include "app/reference.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "app/embedder.h"
#include "common/error.h"
#include "common/npy.h"

namespace bertc {
namespace {

namespace fs = std::filesystem;

std::vector<int32_t> int_row(const nlohmann::json& row, size_t n, const std::string& what) {
  BERTC_CHECK(row.is_array() && row.size() >= n, what, " has a row shorter than its length ", n);
  std::vector<int32_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = row[i].get<int32_t>();
  return out;
}

// Runs `rows` through the model in packed batches of at most max_tokens. Without pool modes,
// returns the hidden states of `layers` for every real token ([sum of lengths, H]); with them,
// one [B, H] matrix per mode.
std::vector<std::vector<float>> run_rows(BertModel& model, const std::vector<std::vector<int32_t>>& ids,
                                         const std::vector<std::vector<int32_t>>& types,
                                         int64_t layers, const std::vector<PoolMode>& modes,
                                         bool normalize) {
  std::vector<std::vector<float>> out(std::max<size_t>(1, modes.size()));
  std::vector<float> host;
  size_t next = 0;
  while (next < ids.size()) {
    PackedBatch batch;
    while (next < ids.size() &&
           (batch.num_seqs() == 0 ||
            batch.num_tokens() + static_cast<int64_t>(ids[next].size()) <= model.max_tokens())) {
      batch.add(ids[next], types[next]);
      ++next;
    }
    const Tensor h = model.encode(batch, layers);
    for (size_t m = 0; m < out.size(); ++m) {
      const Tensor result = modes.empty() ? h : model.pool(h, modes[m], normalize);
      model.to_host(result, host);
      out[m].insert(out[m].end(), host.begin(), host.end());
    }
  }
  return out;
}

struct Accumulator {
  OutputDiff d;
  double max_ref = 0;
  void row(const float* got, const float* want, int64_t n, int64_t seq) {
    double dot = 0, gg = 0, ww = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double g = got[i], w = want[i];
      const double diff = std::abs(g - w);
      if (diff > d.max_abs || std::isnan(diff)) {
        d.max_abs = std::isnan(diff) ? INFINITY : diff;
        d.worst_row = seq;
      }
      max_ref = std::max(max_ref, std::abs(w));
      dot += g * w;
      gg += g * g;
      ww += w * w;
    }
    // Two zero vectors agree; one zero vector against a nonzero one does not.
    const double cos = (gg == 0 && ww == 0) ? 1.0 : dot / std::sqrt(gg * ww);
    d.min_cosine = std::min(d.min_cosine, std::isnan(cos) ? -1.0 : cos);
    ++d.rows;
  }
  OutputDiff finish() {
    d.max_rel = max_ref > 0 ? d.max_abs / max_ref : d.max_abs;
    return d;
  }
};

}  // namespace

ReferenceBundle load_reference(const std::string& dir) {
  ReferenceBundle b;
  b.dir = dir;
  const std::string path = (fs::path(dir) / "inputs.json").string();
  std::ifstream in(path);
  BERTC_CHECK(in, path, ": cannot open (a reference bundle has inputs.json and .npy outputs)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
    const auto& lengths = j.at("lengths");
    const auto& ids = j.at("input_ids");
    const auto& types = j.at("token_type_ids");
    BERTC_CHECK(ids.size() == lengths.size() && types.size() == lengths.size(), path,
                ": input_ids, token_type_ids and lengths have different row counts");
    for (size_t r = 0; r < lengths.size(); ++r) {
      const auto n = lengths[r].get<size_t>();
      b.input_ids.push_back(int_row(ids[r], n, path + ": input_ids"));
      b.token_type_ids.push_back(int_row(types[r], n, path + ": token_type_ids"));
    }
    if (j.contains("tokens")) b.tokens = j["tokens"].get<std::vector<std::vector<std::string>>>();
    if (j.contains("sentences")) b.sentences = j["sentences"].get<std::vector<std::string>>();
    if (j.contains("sentence_transformers"))
      b.st_max_seq_length = j["sentence_transformers"].at("max_seq_length").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    BERTC_FAIL(path, ": ", e.what());
  }
  BERTC_CHECK(!b.input_ids.empty(), path, ": no inputs");
  return b;
}

std::vector<OutputDiff> validate_reference(BertModel& model, const ReferenceBundle& bundle,
                                           const std::optional<PoolingConfig>& pooling,
                                           const ValidateOptions& options) {
  const int64_t H = model.config().hidden_size;
  const int64_t L = model.num_layers();
  const auto B = static_cast<int64_t>(bundle.input_ids.size());
  std::vector<OutputDiff> diffs;
  auto file = [&](const std::string& stem) { return (fs::path(bundle.dir) / (stem + ".npy")).string(); };

  auto check_shape = [&](const NpyArray& a, const std::string& stem, size_t rank) {
    BERTC_CHECK(a.shape.size() == rank && a.dim(0) == B && a.shape.back() == H, file(stem),
                ": shape does not match ", B, " inputs of hidden size ", H);
  };

  // Hidden states: [B, T', H], compared at positions < min(length, T').
  for (int64_t k = 0; k <= L + 1; ++k) {
    const std::string stem = k <= L ? str_cat("hidden_states_", k) : "last_hidden_state";
    if (!fs::exists(file(stem))) continue;
    const NpyArray want = read_npy(file(stem));
    check_shape(want, stem, 3);
    const int64_t T = want.dim(1);
    const std::vector<float> got =
        run_rows(model, bundle.input_ids, bundle.token_type_ids, k <= L ? k : L, {}, false)[0];
    Accumulator acc;
    acc.d.name = stem;
    acc.d.atol = options.atol_hidden;
    acc.d.min_cosine_bound = options.min_cosine;
    int64_t token = 0;
    for (int64_t b = 0; b < B; ++b) {
      const auto len = static_cast<int64_t>(bundle.input_ids[b].size());
      for (int64_t t = 0; t < std::min(len, T); ++t)
        acc.row(got.data() + (token + t) * H, want.data.data() + (b * T + t) * H, H, b);
      token += len;
    }
    diffs.push_back(acc.finish());
  }

  auto compare_pooled = [&](const std::string& stem, const std::vector<float>& got) {
    const NpyArray want = read_npy(file(stem));
    check_shape(want, stem, 2);
    Accumulator acc;
    acc.d.name = stem;
    acc.d.atol = options.atol_pooled;
    acc.d.min_cosine_bound = options.min_cosine;
    for (int64_t b = 0; b < B; ++b) acc.row(got.data() + b * H, want.data.data() + b * H, H, b);
    diffs.push_back(acc.finish());
  };
  const std::pair<const char*, PoolMode> pooled[] = {
      {"pooler_output", PoolMode::kPooled}, {"cls", PoolMode::kCls}, {"mean_pooled", PoolMode::kMean}};
  std::vector<std::string> stems;
  std::vector<PoolMode> modes;
  for (const auto& [stem, mode] : pooled) {
    if (!fs::exists(file(stem))) continue;
    stems.push_back(stem);
    modes.push_back(mode);
  }
  if (!modes.empty()) {
    const auto got = run_rows(model, bundle.input_ids, bundle.token_type_ids, L, modes, false);
    for (size_t m = 0; m < modes.size(); ++m) compare_pooled(stems[m], got[m]);
  }

  // The sentence-transformers embedding: truncated to its max_seq_length (keeping the final
  // [SEP], exactly what its tokenizer call produces), pooled as its config says.
  if (fs::exists(file("st_embedding"))) {
    BERTC_CHECK(pooling.has_value(), file("st_embedding"),
                ": the bundle has a sentence-transformers embedding but the model has no pooling config");
    const int64_t M = bundle.st_max_seq_length ? bundle.st_max_seq_length : pooling->max_seq_length;
    auto ids = bundle.input_ids;
    auto types = bundle.token_type_ids;
    for (size_t r = 0; r < ids.size(); ++r) {
      if (M <= 0 || static_cast<int64_t>(ids[r].size()) <= M) continue;
      const int32_t sep = ids[r].back(), sep_type = types[r].back();
      ids[r].resize(static_cast<size_t>(M));
      types[r].resize(static_cast<size_t>(M));
      ids[r].back() = sep;
      types[r].back() = sep_type;
    }
    const PoolMode mode = pool_mode_from_config(*pooling, bundle.dir);
    compare_pooled("st_embedding", run_rows(model, ids, types, L, {mode}, pooling->normalize)[0]);
  }
  BERTC_CHECK(!diffs.empty(), bundle.dir, ": no known outputs (hidden_states_K.npy, "
              "last_hidden_state.npy, pooler_output.npy, cls.npy, mean_pooled.npy, st_embedding.npy)");
  return diffs;
}

}  // namespace bertc
