// convert_bert_folder: the BERT half of `bertc convert`. Every check (names, dtypes, shapes,
// missing tensors, all listed at once) runs before the output file is created.
// Tested value by value on tests/data/models/* in tests/weights/convert_bert_test.cc.
#include "weights/convert_bert.h"

#include <algorithm>
#include <cstring>
#include <map>

#include <nlohmann/json.hpp>

#include "bertc_version.h"
#include "common/error.h"
#include "common/strings.h"
#include "weights/bert_names.h"
#include "weights/checkpoint.h"
#include "weights/hf_folder.h"
#include "weights/writer.h"

namespace bertc {
namespace {

float load_as_f32(const unsigned char* p, DType t) {
  if (t == DType::kF32) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, p, 2);
  return t == DType::kF16 ? f16_to_f32(h) : bf16_to_f32(h);
}

void store_from_f32(float f, DType t, unsigned char* p) {
  if (t == DType::kF32) {
    std::memcpy(p, &f, 4);
    return;
  }
  uint16_t h = t == DType::kF16 ? f32_to_f16(f) : f32_to_bf16(f);
  std::memcpy(p, &h, 2);
}

}  // namespace

void convert_floats(const void* src, DType from, void* dst, DType to, size_t n) {
  if (from == to) {
    std::memcpy(dst, src, n * dtype_nbytes(from));  // bit-identical, NaN payloads included
    return;
  }
  const auto* s = static_cast<const unsigned char*>(src);
  auto* d = static_cast<unsigned char*>(dst);
  const size_t ss = dtype_nbytes(from), ds = dtype_nbytes(to);
  // f16 and bf16 both widen to f32 exactly, so going through f32 rounds only once.
  for (size_t i = 0; i < n; ++i) store_from_f32(load_as_f32(s + i * ss, from), to, d + i * ds);
}

void convert_bert_folder(const std::string& dir, const std::string& out_path,
                         const ConvertOptions& options) {
  BERTC_CHECK(options.dtype == DType::kF32 || options.dtype == DType::kF16 ||
                  options.dtype == DType::kBF16,
              out_path, ": output dtype must be f32, f16 or bf16");
  HfFolder folder = read_hf_folder(dir);
  const std::string& src = folder.weights_path;
  Checkpoint ck = folder.weights_are_safetensors ? read_safetensors(src) : read_torch_bin(src);

  std::map<std::string, const CheckpointTensor*> by_canonical;
  std::map<std::string, std::string> source_of;
  std::vector<std::string> unexpected;
  std::vector<ExpectedTensor> expected = expected_bert_tensors(folder.config);
  std::map<std::string, const ExpectedTensor*> expected_by_name;
  for (const ExpectedTensor& e : expected) expected_by_name[e.name] = &e;
  size_t ignored = 0;
  std::map<std::string, std::vector<std::string>> ignored_by_reason;
  for (const CheckpointTensor& t : ck.tensors) {
    MappedName m = map_bert_name(t.name);
    if (m.action == MappedName::kIgnore) {
      ignored_by_reason[m.reason].push_back(t.name);
      ++ignored;
      continue;
    }
    if (!expected_by_name.count(m.name)) {
      unexpected.push_back(t.name);
      continue;
    }
    auto [it, inserted] = source_of.emplace(m.name, t.name);
    BERTC_CHECK(inserted, src, ": tensors '", it->second, "' and '", t.name, "' both map to '",
                m.name, "'");
    by_canonical[m.name] = &t;
  }
  for (const auto& [reason, names] : ignored_by_reason) {
    if (!options.note) break;
    std::string list;
    for (size_t i = 0; i < names.size() && i < 3; ++i) list += (i ? ", " : "") + names[i];
    if (names.size() > 3) list += ", ...";
    options.note(str_cat("note: ", src, ": ignoring ", names.size(), " tensor(s), ", reason, ": ", list));
  }
  if (!unexpected.empty()) {
    std::string list;
    for (size_t i = 0; i < unexpected.size() && i < 8; ++i) list += (i ? ", " : "") + unexpected[i];
    if (unexpected.size() > 8) list += ", ...";
    BERTC_FAIL(src, ": ", unexpected.size(), " tensor(s) that are not part of a BertModel with this ",
               "config.json: ", list);
  }
  std::vector<std::string> missing;
  for (const ExpectedTensor& e : expected) {
    auto it = by_canonical.find(e.name);
    if (it == by_canonical.end()) {
      if (!e.optional) missing.push_back(e.name);
      continue;
    }
    const CheckpointTensor& t = *it->second;
    BERTC_CHECK(t.dtype == DType::kF32 || t.dtype == DType::kF16 || t.dtype == DType::kBF16, src,
                ": tensor '", t.name, "' has dtype ", dtype_name(t.dtype), ", expected a float type");
    BERTC_CHECK(t.shape == e.shape, src, ": tensor '", t.name, "' has shape ", shape_str(t.shape),
                " but config.json implies ", shape_str(e.shape));
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size(); ++i) list += (i ? ", " : "") + missing[i];
    BERTC_FAIL(src, ": ", missing.size(), " required tensor(s) missing: ", list);
  }
  BERTC_CHECK(by_canonical.count("pooler.dense.weight") == by_canonical.count("pooler.dense.bias"),
              src, ": the pooler needs both pooler.dense.weight and pooler.dense.bias");

  ModelWriter writer(out_path, ModelKind::kBert);
  writer.set_bert(folder.config, folder.tokenizer, folder.pooling, folder.vocab);
  nlohmann::json source = {{"source_path", dir},
                           {"source_weights", src},
                           {"source_format", folder.weights_are_safetensors ? "safetensors" : "pytorch"},
                           {"bertc_version", BERTC_VERSION},
                           {"bertc_commit", BERTC_GIT_COMMIT},
                           {"ignored_tensors", ignored}};
  writer.set_metadata_json(source.dump());
  std::vector<const CheckpointTensor*> order;
  for (const ExpectedTensor& e : expected) {
    auto it = by_canonical.find(e.name);
    if (it == by_canonical.end()) continue;
    writer.declare(e.name, options.dtype, e.shape);
    order.push_back(it->second);
  }
  constexpr size_t kChunkElems = size_t{1} << 18;  // 1 MiB of f32: bounded memory for any model
  std::vector<unsigned char> buf(kChunkElems * 4);
  size_t k = 0;
  for (const ExpectedTensor& e : expected) {
    if (!by_canonical.count(e.name)) continue;
    const CheckpointTensor& t = *order[k++];
    const size_t n = t.nbytes / dtype_nbytes(t.dtype);
    const auto* s = static_cast<const unsigned char*>(t.data);
    for (size_t i = 0; i < n; i += kChunkElems) {
      size_t m = std::min(kChunkElems, n - i);
      convert_floats(s + i * dtype_nbytes(t.dtype), t.dtype, buf.data(), options.dtype, m);
      writer.write(e.name, buf.data(), m * dtype_nbytes(options.dtype));
    }
  }
  writer.commit();
}

}  // namespace bertc
