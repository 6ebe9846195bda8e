// ModelFile::open: mmap a .bertc file and validate all of it (weights/FORMAT.md) before any
// tensor data is read: header, metadata, every table entry with overflow-safe bounds, then the
// per-kind tensor set. Hostile files are tested in tests/weights/model_file_test.cc and fuzzed by
// tests/fuzz/bertc_file_fuzz.cc.
#include "weights/model_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/strings.h"
#include "weights/bert_names.h"
#include "weights/format.h"
#include "weights/hash.h"
#include "weights/model_meta.h"
#include "common/utf8.h"
#include "weights/word2vec.h"

namespace bertc {

struct ModelFile::Mapping {
  void* addr = nullptr;
  size_t nbytes = 0;
  ~Mapping() {
    if (addr) ::munmap(addr, nbytes);
  }
};

void ModelFile::release_pages(const void* data, size_t nbytes) const {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto map_begin = reinterpret_cast<uintptr_t>(map_->addr);
  const uintptr_t begin = std::max(reinterpret_cast<uintptr_t>(data), map_begin);
  const uintptr_t end = std::min(reinterpret_cast<uintptr_t>(data) + nbytes, map_begin + map_->nbytes);
  const uintptr_t first = (begin + page - 1) / page * page, last = end / page * page;
  // Advice only: a failure costs memory, never correctness.
  if (first < last) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

namespace {

// Reads fixed-size fields from the table, refusing to step past its end.
class Cursor {
 public:
  Cursor(const unsigned char* p, uint64_t n, const std::string& file) : p_(p), n_(n), file_(file) {}
  void read(void* out, uint64_t nbytes, const char* what) {
    BERTC_CHECK(nbytes <= n_ - pos_, file_, ": tensor table is truncated (reading ", what,
                " at table byte ", pos_, " of ", n_, ")");
    std::memcpy(out, p_ + pos_, nbytes);
    pos_ += nbytes;
  }
  template <typename T>
  T get(const char* what) {
    T v;
    read(&v, sizeof v, what);
    return v;
  }
  uint64_t remaining() const { return n_ - pos_; }

 private:
  const unsigned char* p_;
  uint64_t n_;
  uint64_t pos_ = 0;
  const std::string& file_;
};

bool is_weight_dtype(DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16; }

using TensorMap = std::map<std::string_view, const TensorInfo*>;

// Kind bert: exactly the tensors weights/FORMAT.md lists for this config, pooler optional.
void validate_bert_tensors(const TensorMap& by_name, const BertConfig& c, const std::string& file) {
  std::vector<ExpectedTensor> expected = expected_bert_tensors(c);
  bool has_pooler_w = by_name.count("pooler.dense.weight"), has_pooler_b = by_name.count("pooler.dense.bias");
  BERTC_CHECK(has_pooler_w == has_pooler_b, file, ": pooler.dense.weight and pooler.dense.bias ",
              "must both be present or both absent");

  std::set<std::string_view> known = {format::kVocabOffsets, format::kVocabBytes};
  std::vector<std::string> missing;
  for (const auto& [name, shape, optional] : expected) {
    known.insert(name);
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      if (!optional) missing.push_back(name);
      continue;
    }
    const TensorInfo& t = *it->second;
    BERTC_CHECK(is_weight_dtype(t.dtype), file, ": tensor '", name, "' has dtype ",
                dtype_name(t.dtype), ", expected f32, f16 or bf16");
    BERTC_CHECK(t.shape == shape, file, ": tensor '", name, "' has shape ", shape_str(t.shape),
                ", expected ", shape_str(shape));
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 8; ++i) list += (i ? ", " : "") + missing[i];
    if (missing.size() > 8) list += ", ...";
    BERTC_FAIL(file, ": ", missing.size(), " tensor(s) missing: ", list);
  }
  for (const auto& [name, info] : by_name) {
    BERTC_CHECK(known.count(name), file, ": unexpected tensor '", name, "' for a bert model");
  }
  for (const char* name : {format::kVocabOffsets, format::kVocabBytes}) {
    auto it = by_name.find(name);
    BERTC_CHECK(it != by_name.end(), file, ": tensor '", name, "' (the vocabulary) is missing");
    DType want = name == std::string_view(format::kVocabBytes) ? DType::kU8 : DType::kU64;
    BERTC_CHECK(it->second->dtype == want && it->second->shape.size() == 1, file, ": tensor '",
                name, "' must be a ", dtype_name(want), " vector, got ",
                dtype_name(it->second->dtype), " ", shape_str(it->second->shape));
  }
}

// Kind word2vec: the tensor set is owned by the word2vec converter (branch w2v) and checked here.
void validate_word2vec_tensors(const TensorMap& by_name, const Word2VecInfo& info,
                               const std::string& file) {
  validate_word2vec(info, by_name.size(), [&](std::string_view name) -> const TensorInfo* {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : it->second;
  }, file);
}

std::vector<std::string> read_vocab(const TensorMap& by_name, const BertConfig& c,
                                    const TokenizerConfig& tok, const std::string& file) {
  const TensorInfo& offs_t = *by_name.at(format::kVocabOffsets);
  const TensorInfo& bytes_t = *by_name.at(format::kVocabBytes);
  BERTC_CHECK(offs_t.shape[0] >= 2, file, ": the vocabulary is empty");
  const int64_t count = offs_t.shape[0] - 1;
  BERTC_CHECK(count <= c.vocab_size, file, ": the vocabulary has ", count,
              " tokens, more than config vocab_size ", c.vocab_size);
  const auto* offs = static_cast<const unsigned char*>(offs_t.data);
  const char* bytes = static_cast<const char*>(bytes_t.data);
  std::vector<std::string> vocab;
  vocab.reserve(count);
  std::unordered_set<std::string_view> seen;
  uint64_t prev;
  std::memcpy(&prev, offs, 8);  // memcpy: the mapping is aligned, but be safe for any input
  BERTC_CHECK(prev == 0, file, ": vocab.offsets must start at 0");
  for (int64_t i = 0; i < count; ++i) {
    uint64_t next;
    std::memcpy(&next, offs + 8 * (i + 1), 8);
    BERTC_CHECK(next > prev && next <= bytes_t.nbytes, file, ": vocab.offsets[", i + 1, "] = ",
                next, " is out of order or past the end of vocab.bytes (token ", i, ")");
    vocab.emplace_back(bytes + prev, next - prev);
    prev = next;
  }
  BERTC_CHECK(prev == bytes_t.nbytes, file, ": vocab.bytes has ", bytes_t.nbytes - prev,
              " trailing bytes");
  for (int64_t i = 0; i < count; ++i) {
    BERTC_CHECK(!find_invalid_utf8(vocab[i]), file, ": vocabulary token ", i, " is not valid UTF-8");
    BERTC_CHECK(seen.insert(vocab[i]).second, file, ": vocabulary token '", vocab[i],
                "' appears twice (ids ", i, " and another)");
  }
  for (const std::string* s : {&tok.unk_token, &tok.sep_token, &tok.pad_token, &tok.cls_token,
                               &tok.mask_token}) {
    BERTC_CHECK(seen.count(*s), file, ": special token '", *s, "' is not in the vocabulary");
  }
  return vocab;
}

}  // namespace

std::shared_ptr<const ModelFile> ModelFile::open(const std::string& path) {
  std::shared_ptr<ModelFile> m(new ModelFile());
  m->path_ = path;
  const std::string& file = m->path_;

  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  BERTC_CHECK(fd >= 0, file, ": cannot open: ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    BERTC_FAIL(file, ": not a regular file");
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < format::kHeaderNbytes) {
    ::close(fd);
    BERTC_FAIL(file, ": file is ", size, " bytes, too small for a .bertc header (",
               format::kHeaderNbytes, ")");
  }
  m->map_ = std::make_unique<Mapping>();
  void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  ::close(fd);
  BERTC_CHECK(addr != MAP_FAILED, file, ": mmap failed: ", std::strerror(err));
  m->map_->addr = addr;
  m->map_->nbytes = size;
  m->file_nbytes_ = size;
  const auto* base = static_cast<const unsigned char*>(addr);

  // ---- header ----
  BERTC_CHECK(std::memcmp(base, format::kMagic, 8) == 0, file,
              ": not a .bertc file (bad magic); convert a model with `bertc convert`");
  format::Header h;
  std::memcpy(&h.version, base + 8, 4);
  std::memcpy(&h.kind, base + 12, 4);
  std::memcpy(&h.file_nbytes, base + 16, 8);
  std::memcpy(&h.meta_nbytes, base + 24, 8);
  std::memcpy(&h.table_offset, base + 32, 8);
  std::memcpy(&h.table_nbytes, base + 40, 8);
  std::memcpy(&h.tensor_count, base + 48, 4);
  BERTC_CHECK(h.version != 0, file, ": format version 0 is invalid");
  BERTC_CHECK(h.version <= format::kVersion, file, ": format version ", h.version,
              " is newer than this bertc supports (", format::kVersion,
              "); upgrade bertc or reconvert the model");
  BERTC_CHECK(h.file_nbytes == size, file, ": file is ", size, " bytes but its header says ",
              h.file_nbytes, " (truncated or appended to)");
  BERTC_CHECK(h.kind == static_cast<uint32_t>(ModelKind::kBert) ||
                  h.kind == static_cast<uint32_t>(ModelKind::kWord2Vec),
              file, ": unknown model kind ", h.kind);
  uint64_t reserved_a = 0;
  uint32_t reserved_b = 0;
  std::memcpy(&reserved_b, base + 52, 4);
  std::memcpy(&reserved_a, base + 56, 8);
  BERTC_CHECK(reserved_a == 0 && reserved_b == 0, file, ": reserved header bytes are not zero");
  BERTC_CHECK(h.meta_nbytes <= format::kMaxMetaNbytes, file, ": metadata size ", h.meta_nbytes,
              " exceeds the limit ", format::kMaxMetaNbytes);
  BERTC_CHECK(h.table_offset == format::kHeaderNbytes + h.meta_nbytes, file, ": table offset ",
              h.table_offset, " does not follow the metadata");
  BERTC_CHECK(h.table_nbytes <= format::kMaxTableNbytes, file, ": tensor table size ",
              h.table_nbytes, " exceeds the limit ", format::kMaxTableNbytes);
  BERTC_CHECK(h.table_offset + h.table_nbytes <= size, file, ": tensor table (",
              h.table_offset, " + ", h.table_nbytes, " bytes) runs past the end of the file (", size, ")");
  BERTC_CHECK(h.tensor_count <= format::kMaxTensors, file, ": tensor count ", h.tensor_count,
              " exceeds the limit ", format::kMaxTensors);
  m->version_ = h.version;
  m->kind_ = static_cast<ModelKind>(h.kind);

  // ---- metadata ----
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(base + format::kHeaderNbytes,
                                 base + format::kHeaderNbytes + h.meta_nbytes);
  } catch (const nlohmann::json::exception& e) {
    BERTC_FAIL(file, ": metadata is not valid JSON (", e.what(), ")");
  }
  BERTC_CHECK(meta.is_object(), file, ": metadata is not a JSON object");
  if (auto it = meta.find("source"); it != meta.end()) m->metadata_json_ = it->dump();
  const char* kind_key = m->kind_ == ModelKind::kBert ? "bert" : "word2vec";
  auto kind_it = meta.find(kind_key);
  BERTC_CHECK(kind_it != meta.end() && kind_it->is_object(), file, ": metadata has no '",
              kind_key, "' object");
  if (m->kind_ == ModelKind::kBert) {
    const nlohmann::json& b = *kind_it;
    BERTC_CHECK(b.contains("config") && b.contains("tokenizer"), file,
                ": metadata 'bert' needs 'config' and 'tokenizer'");
    m->bert_ = bert_config_from_json(b["config"], file);
    m->tokenizer_ = tokenizer_config_from_json(b["tokenizer"], file);
    m->pooling_ = pooling_config_from_json(b.value("pooling", nlohmann::json()), file);
  } else {
    m->w2v_ = word2vec_info_from_json(*kind_it, file);
  }

  // ---- tensor table ----
  Cursor cur(base + h.table_offset, h.table_nbytes, file);
  uint64_t data_start = format::align_up(h.table_offset + h.table_nbytes);
  uint64_t prev_end = data_start;
  std::set<std::string, std::less<>> names;
  m->tensors_.reserve(h.tensor_count);
  for (uint32_t i = 0; i < h.tensor_count; ++i) {
    TensorInfo t;
    uint32_t name_len = cur.get<uint32_t>("a name length");
    BERTC_CHECK(name_len >= 1 && name_len <= format::kMaxNameLen, file, ": tensor ", i,
                " has a bad name length ", name_len);
    t.name.resize(name_len);
    cur.read(t.name.data(), name_len, "a name");
    for (char ch : t.name) {
      BERTC_CHECK(ch > 0x20 && ch < 0x7f, file, ": tensor ", i, " has a non-printable name");
    }
    BERTC_CHECK(names.insert(t.name).second, file, ": tensor '", t.name, "' appears twice");
    uint32_t dtype = cur.get<uint32_t>("a dtype");
    BERTC_CHECK(dtype_valid(dtype), file, ": tensor '", t.name, "' has unknown dtype ", dtype);
    t.dtype = static_cast<DType>(dtype);
    uint32_t rank = cur.get<uint32_t>("a rank");
    BERTC_CHECK(rank <= static_cast<uint32_t>(format::kMaxRank), file, ": tensor '", t.name,
                "' has rank ", rank, " (at most ", format::kMaxRank, ")");
    uint64_t numel = 1;
    bool overflow = false;
    for (uint32_t k = 0; k < rank; ++k) {
      uint64_t d = cur.get<uint64_t>("a dimension");
      BERTC_CHECK(d <= format::kMaxDim, file, ": tensor '", t.name, "' has an absurd dimension ", d);
      overflow |= d != 0 && numel > UINT64_MAX / d;
      numel *= d;
      t.shape.push_back(static_cast<int64_t>(d));
    }
    t.offset_bytes = cur.get<uint64_t>("an offset");
    t.nbytes = cur.get<uint64_t>("a size");
    t.checksum = cur.get<uint64_t>("a checksum");
    uint64_t esize = dtype_nbytes(t.dtype);
    BERTC_CHECK(!overflow && numel <= UINT64_MAX / esize && numel * esize == t.nbytes, file,
                ": tensor '", t.name, "' has shape ", shape_str(t.shape), " (", dtype_name(t.dtype),
                ") but ", t.nbytes, " bytes");
    BERTC_CHECK(t.offset_bytes % format::kAlign == 0, file, ": tensor '", t.name, "' offset ",
                t.offset_bytes, " is not ", format::kAlign, "-byte aligned");
    BERTC_CHECK(t.offset_bytes >= prev_end, file, ": tensor '", t.name, "' offset ", t.offset_bytes,
                " overlaps the previous section (ends at ", prev_end, ")");
    BERTC_CHECK(t.offset_bytes <= size && t.nbytes <= size - t.offset_bytes, file, ": tensor '",
                t.name, "' (offset ", t.offset_bytes, ", ", t.nbytes,
                " bytes) runs past the end of the file (", size, ")");
    prev_end = t.offset_bytes + t.nbytes;
    t.data = base + t.offset_bytes;
    m->tensors_.push_back(std::move(t));
  }
  BERTC_CHECK(cur.remaining() == 0, file, ": tensor table has ", cur.remaining(),
              " unexpected trailing bytes");
  if (!m->tensors_.empty()) {
    BERTC_CHECK(prev_end == size, file, ": ", size - prev_end,
                " unexpected bytes after the last tensor");
  }

  TensorMap by_name;
  for (const TensorInfo& t : m->tensors_) by_name.emplace(t.name, &t);
  if (m->kind_ == ModelKind::kBert) {
    validate_bert_tensors(by_name, m->bert_, file);
    m->vocab_ = read_vocab(by_name, m->bert_, m->tokenizer_, file);
  } else {
    validate_word2vec_tensors(by_name, m->w2v_, file);
  }
  return m;
}

ModelFile::~ModelFile() = default;

const TensorInfo* ModelFile::find(std::string_view name) const {
  for (const TensorInfo& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

const TensorInfo& ModelFile::tensor(std::string_view name) const {
  const TensorInfo* t = find(name);
  BERTC_CHECK(t, path_, ": no tensor named '", name, "'");
  return *t;
}

void ModelFile::verify_checksums() const {
  for (const TensorInfo& t : tensors_) {
    uint64_t got = bertc_hash64(t.data, t.nbytes);
    BERTC_CHECK(got == t.checksum, path_, ": checksum mismatch in tensor '", t.name,
                "' (the file is corrupt; reconvert it)");
  }
}

std::string ModelFile::fingerprint() const {
  Hasher64 h;
  for (const TensorInfo& t : tensors_) {
    h.update(t.name.data(), t.name.size() + 1);  // includes the terminating zero byte
    h.update(&t.checksum, 8);
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h.finish()));
  return hex;
}

}  // namespace bertc
