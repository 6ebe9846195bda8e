// bertc inspect FILE [--json] [--verify]: kind, config, vocabulary size, tensor table, total size
// and checksum status of a .bertc file. Opening validates the whole file; --verify also hashes data.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/strings.h"
#include "tools/args.h"
#include "weights/model_file.h"
#include "weights/model_meta.h"

namespace bertc {
namespace {

double megabytes(uint64_t nbytes) { return static_cast<double>(nbytes) / 1e6; }

}  // namespace

int run_inspect(const Args& args) {
  CLI::App app{"Show what a .bertc file holds; the whole file is validated on open", "bertc inspect"};
  std::string path;
  bool as_json = false, verify = false;
  app.add_option("FILE", path, ".bertc file")->required()->group("Input");
  app.add_flag("--json", as_json, "print one JSON object instead of text")->group("Output");
  app.add_flag("--verify", verify, "recompute every tensor checksum (reads all data)")->group("Checks");
  if (!parse_args(app, args)) return 0;

  auto m = ModelFile::open(path);
  if (verify) m->verify_checksums();
  const bool bert = m->kind() == ModelKind::kBert;
  uint64_t data_nbytes = 0;
  for (const TensorInfo& t : m->tensors()) data_nbytes += t.nbytes;
  const char* checksums = verify ? "ok" : "not verified (use --verify)";

  if (as_json) {
    nlohmann::json j = {{"file", path},
                        {"format_version", m->format_version()},
                        {"kind", bert ? "bert" : "word2vec"},
                        {"file_nbytes", m->file_nbytes()},
                        {"tensor_nbytes", data_nbytes},
                        {"fingerprint", m->fingerprint()},
                        {"checksums", verify ? "ok" : "not verified"}};
    if (bert) {
      j["config"] = bert_config_to_json(m->bert_config());
      j["tokenizer"] = tokenizer_config_to_json(m->tokenizer_config());
      j["pooling"] = pooling_config_to_json(m->pooling_config());
      j["vocab_size"] = m->vocab().size();
    } else {
      j["word2vec"] = word2vec_info_to_json(m->word2vec_info());
    }
    j["source"] = m->metadata_json().empty() ? nlohmann::json() : nlohmann::json::parse(m->metadata_json());
    nlohmann::json tensors = nlohmann::json::array();
    for (const TensorInfo& t : m->tensors()) {
      tensors.push_back({{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"shape", t.shape},
                         {"offset", t.offset_bytes}, {"nbytes", t.nbytes},
                         {"checksum", str_cat(std::hex, t.checksum)}});
    }
    j["tensors"] = tensors;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }

  std::printf("file:         %s\n", path.c_str());
  std::printf("format:       .bertc version %u, kind %s, %.1f MB\n", m->format_version(),
              bert ? "bert" : "word2vec", megabytes(m->file_nbytes()));
  if (bert) {
    const BertConfig& c = m->bert_config();
    std::printf("config:       hidden %lld, layers %lld, heads %lld, intermediate %lld, vocab %lld, "
                "max positions %lld, type vocab %lld, pad id %lld, eps %g, act %s, positions %s\n",
                (long long)c.hidden_size, (long long)c.num_hidden_layers,
                (long long)c.num_attention_heads, (long long)c.intermediate_size,
                (long long)c.vocab_size, (long long)c.max_position_embeddings,
                (long long)c.type_vocab_size, (long long)c.pad_token_id, c.layer_norm_eps,
                c.hidden_act.c_str(), c.position_embedding_type.c_str());
    const TokenizerConfig& t = m->tokenizer_config();
    std::printf("tokenizer:    lower case %s, strip accents %s, chinese chars %s, max length %lld, "
                "special %s %s %s %s %s\n",
                t.do_lower_case ? "yes" : "no",
                t.strip_accents ? (*t.strip_accents ? "yes" : "no") : "(as lower case)",
                t.tokenize_chinese_chars ? "yes" : "no", (long long)t.model_max_length,
                t.cls_token.c_str(), t.sep_token.c_str(), t.pad_token.c_str(), t.unk_token.c_str(),
                t.mask_token.c_str());
    if (const auto& p = m->pooling_config()) {
      std::printf("pooling:      %s, normalize %s, max_seq_length %lld\n", p->mode.c_str(),
                  p->normalize ? "yes" : "no", (long long)p->max_seq_length);
    } else {
      std::printf("pooling:      none in the source (sentence-transformers config absent)\n");
    }
    std::printf("vocab:        %zu tokens\n", m->vocab().size());
  } else {
    const Word2VecInfo& w = m->word2vec_info();
    std::printf("word2vec:     %lld words, dim %lld, normalized %s\n", (long long)w.count,
                (long long)w.dim, w.normalized ? "yes" : "no");
  }
  if (!m->metadata_json().empty()) std::printf("source:       %s\n", m->metadata_json().c_str());
  std::printf("fingerprint:  %s\n", m->fingerprint().c_str());
  std::printf("tensors:      %zu, %.1f MB\n", m->tensors().size(), megabytes(data_nbytes));
  for (const TensorInfo& t : m->tensors()) {
    std::printf("  %-52s %-5s %-14s %9.3f MB\n", t.name.c_str(), std::string(dtype_name(t.dtype)).c_str(),
                shape_str(t.shape).c_str(), megabytes(t.nbytes));
  }
  std::printf("checksums:    %s\n", checksums);
  return 0;
}

}  // namespace bertc
