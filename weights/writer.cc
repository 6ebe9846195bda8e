// ModelWriter: lays out a .bertc file (weights/FORMAT.md) when the first tensor bytes arrive,
// streams data through OutputFile while hashing it, then rewrites the table with the checksums.
// Round-trips through ModelFile::open in tests/weights/model_file_test.cc.
#include "weights/writer.h"

#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "weights/format.h"
#include "weights/hash.h"
#include "weights/model_meta.h"

namespace bertc {

struct ModelWriter::Impl {
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    uint64_t offset = 0;
    uint64_t nbytes = 0;
    uint64_t written = 0;
    Hasher64 hasher;
  };

  explicit Impl(std::string path, ModelKind k)
      : file(std::move(path), OutputFile::Access::kSeekable), kind(k) {}

  OutputFile file;  // seekable: the table is rewritten with the checksums at the end
  ModelKind kind;
  nlohmann::json meta = nlohmann::json::object();
  std::vector<Entry> entries;
  std::set<std::string, std::less<>> names;
  bool laid_out = false;
  size_t current = 0;   // entry being streamed
  uint64_t pos = 0;     // bytes written so far
  uint64_t file_nbytes = 0;
  std::vector<std::string> vocab;  // kind bert: written as the last two tensors
  std::vector<uint64_t> vocab_offsets;

  const std::string& path() const { return file.path(); }

  uint64_t shape_nbytes(const std::string& name, DType dtype, const std::vector<int64_t>& shape) const {
    BERTC_CHECK(shape.size() <= static_cast<size_t>(format::kMaxRank), path(), ": tensor '", name,
                "' has rank ", shape.size(), " (at most ", format::kMaxRank, ")");
    uint64_t numel = 1;
    for (int64_t d : shape) {
      BERTC_CHECK(d >= 0 && static_cast<uint64_t>(d) <= format::kMaxDim, path(), ": tensor '",
                  name, "' has a bad dimension ", d);
      numel *= static_cast<uint64_t>(d);  // dims <= 2^40 and rank <= 4: checked again at read
    }
    return numel * dtype_nbytes(dtype);
  }

  void add_entry(std::string name, DType dtype, std::vector<int64_t> shape) {
    BERTC_CHECK(!laid_out, path(), ": tensor '", name, "' declared after data was written");
    BERTC_CHECK(!name.empty() && name.size() <= format::kMaxNameLen, path(),
                ": bad tensor name '", name, "'");
    BERTC_CHECK(names.insert(name).second, path(), ": tensor '", name, "' declared twice");
    Entry e;
    e.nbytes = shape_nbytes(name, dtype, shape);
    e.name = std::move(name);
    e.dtype = dtype;
    e.shape = std::move(shape);
    entries.push_back(std::move(e));
  }

  // Every tensor from `first` on has no bytes yet, so its offset may still move.
  void place_from(size_t first) {
    uint64_t offset = first == 0 ? data_start : entries[first - 1].offset + entries[first - 1].nbytes;
    for (size_t i = first; i < entries.size(); ++i) {
      entries[i].offset = format::align_up(offset);
      offset = entries[i].offset + entries[i].nbytes;
    }
    file_nbytes = entries.empty() ? data_start : offset;
  }

  void resize(std::string_view name, std::vector<int64_t> shape) {
    size_t i = 0;
    while (i < entries.size() && entries[i].name != name) ++i;
    BERTC_CHECK(i < entries.size(), path(), ": resize of undeclared tensor '", name, "'");
    Entry& e = entries[i];
    BERTC_CHECK(e.written == 0 && (!laid_out || i >= current) && shape.size() == e.shape.size(),
                path(), ": tensor '", name, "' resized after its data was written or to another rank");
    e.nbytes = shape_nbytes(e.name, e.dtype, shape);
    e.shape = std::move(shape);
    if (laid_out) place_from(i);  // the table keeps its size: same rank, same entries
  }

  std::vector<unsigned char> encode_table() const {
    std::vector<unsigned char> out;
    auto put = [&out](const void* p, size_t n) {
      out.insert(out.end(), static_cast<const unsigned char*>(p),
                 static_cast<const unsigned char*>(p) + n);
    };
    for (const Entry& e : entries) {
      uint32_t name_len = static_cast<uint32_t>(e.name.size());
      uint32_t dtype = static_cast<uint32_t>(e.dtype);
      uint32_t rank = static_cast<uint32_t>(e.shape.size());
      uint64_t checksum = e.hasher.finish();
      put(&name_len, 4);
      put(e.name.data(), e.name.size());
      put(&dtype, 4);
      put(&rank, 4);
      for (int64_t d : e.shape) {
        uint64_t u = static_cast<uint64_t>(d);
        put(&u, 8);
      }
      put(&e.offset, 8);
      put(&e.nbytes, 8);
      put(&checksum, 8);
    }
    return out;
  }

  format::Header header(uint64_t meta_nbytes, uint64_t table_nbytes) const {
    format::Header h;
    h.kind = static_cast<uint32_t>(kind);
    h.file_nbytes = file_nbytes;
    h.meta_nbytes = meta_nbytes;
    h.table_offset = format::kHeaderNbytes + meta_nbytes;
    h.table_nbytes = table_nbytes;
    h.tensor_count = static_cast<uint32_t>(entries.size());
    return h;
  }

  // Fixes every offset and writes header, metadata and a table with placeholder checksums.
  void lay_out() {
    if (laid_out) return;
    if (kind == ModelKind::kBert) {
      BERTC_CHECK(meta.contains("bert"), path(), ": set_bert() was not called");
      add_entry(format::kVocabOffsets, DType::kU64, {static_cast<int64_t>(vocab_offsets.size())});
      add_entry(format::kVocabBytes, DType::kU8, {static_cast<int64_t>(vocab_offsets.back())});
    } else {
      BERTC_CHECK(meta.contains("word2vec"), path(), ": set_word2vec() was not called");
    }
    BERTC_CHECK(entries.size() <= format::kMaxTensors, path(), ": too many tensors");
    std::string meta_str = meta.dump();
    BERTC_CHECK(meta_str.size() <= format::kMaxMetaNbytes, path(), ": metadata too large");
    uint64_t table_nbytes = encode_table().size();
    data_start = format::kHeaderNbytes + meta_str.size() + table_nbytes;
    place_from(0);
    unsigned char hdr[format::kHeaderNbytes];
    format::encode_header(header(meta_str.size(), table_nbytes), hdr);
    file.write(hdr, sizeof hdr);
    file.write(meta_str.data(), meta_str.size());
    std::vector<unsigned char> table = encode_table();
    file.write(table.data(), table.size());
    pos = format::kHeaderNbytes + meta_str.size() + table.size();
    meta_nbytes_ = meta_str.size();
    laid_out = true;
  }

  void pad_to(uint64_t offset) {
    static const unsigned char zeros[format::kAlign] = {};
    while (pos < offset) {
      uint64_t n = std::min<uint64_t>(offset - pos, sizeof zeros);
      file.write(zeros, n);
      pos += n;
    }
  }

  void write(std::string_view name, const void* data, size_t nbytes) {
    lay_out();
    while (current < entries.size() && entries[current].written == entries[current].nbytes &&
           entries[current].name != name) {
      pad_to(entries[current].offset);  // zero-byte tensors still get their aligned offset
      ++current;
    }
    BERTC_CHECK(current < entries.size() && entries[current].name == name, path(),
                ": tensor '", name, "' written out of declaration order or not declared");
    Entry& e = entries[current];
    BERTC_CHECK(e.written + nbytes <= e.nbytes, path(), ": tensor '", name, "' gets ",
                e.written + nbytes, " bytes, declared ", e.nbytes);
    pad_to(e.offset);
    file.write(data, nbytes);
    e.hasher.update(data, nbytes);
    e.written += nbytes;
    pos += nbytes;
  }

  void commit() {
    lay_out();
    for (const Entry& e : entries) {
      if (e.name == format::kVocabOffsets || e.name == format::kVocabBytes) continue;
      BERTC_CHECK(e.written == e.nbytes, path(), ": tensor '", e.name, "' got ", e.written,
                  " of its ", e.nbytes, " bytes");
    }
    if (kind == ModelKind::kBert) {
      std::string bytes;
      for (const std::string& t : vocab) bytes += t;
      write(format::kVocabOffsets, vocab_offsets.data(), vocab_offsets.size() * 8);
      write(format::kVocabBytes, bytes.data(), bytes.size());
    }
    for (; current < entries.size(); ++current) pad_to(entries[current].offset);  // empty tails
    BERTC_CHECK(pos == file_nbytes, path(), ": internal layout error (", pos, " vs ", file_nbytes, ")");
    // Header and table again: file_nbytes, shapes and offsets may have changed through resize(),
    // and the checksums are known only now.
    std::vector<unsigned char> table = encode_table();
    unsigned char hdr[format::kHeaderNbytes];
    format::encode_header(header(meta_nbytes_, table.size()), hdr);
    BERTC_CHECK(std::fseek(file.file(), 0, SEEK_SET) == 0, path(), ": seek failed");
    file.write(hdr, sizeof hdr);
    BERTC_CHECK(std::fseek(file.file(), static_cast<long>(format::kHeaderNbytes + meta_nbytes_),
                           SEEK_SET) == 0, path(), ": seek failed");
    file.write(table.data(), table.size());
    file.commit();
  }

  uint64_t meta_nbytes_ = 0;
  uint64_t data_start = 0;  // end of the table; the first tensor starts at the next 64 bytes
};

ModelWriter::ModelWriter(std::string out_path, ModelKind kind)
    : impl_(new Impl(std::move(out_path), kind)) {}

ModelWriter::~ModelWriter() { delete impl_; }

void ModelWriter::set_bert(const BertConfig& config, const TokenizerConfig& tokenizer,
                           const std::optional<PoolingConfig>& pooling,
                           const std::vector<std::string>& vocab) {
  BERTC_CHECK(impl_->kind == ModelKind::kBert, impl_->path(), ": set_bert on a word2vec file");
  BERTC_CHECK(!impl_->laid_out, impl_->path(), ": set_bert after data was written");
  impl_->meta["bert"] = {{"config", bert_config_to_json(config)},
                         {"tokenizer", tokenizer_config_to_json(tokenizer)},
                         {"pooling", pooling_config_to_json(pooling)}};
  impl_->vocab = vocab;
  impl_->vocab_offsets.assign(1, 0);
  for (const std::string& t : vocab) impl_->vocab_offsets.push_back(impl_->vocab_offsets.back() + t.size());
}

void ModelWriter::set_word2vec(const Word2VecInfo& info) {
  BERTC_CHECK(impl_->kind == ModelKind::kWord2Vec, impl_->path(), ": set_word2vec on a bert file");
  BERTC_CHECK(!impl_->laid_out, impl_->path(), ": set_word2vec after data was written");
  impl_->meta["word2vec"] = word2vec_info_to_json(info);
}

void ModelWriter::set_metadata_json(std::string json) {
  BERTC_CHECK(!impl_->laid_out, impl_->path(), ": metadata set after data was written");
  try {
    impl_->meta["source"] = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    BERTC_FAIL(impl_->path(), ": metadata is not JSON: ", e.what());
  }
}

void ModelWriter::declare(std::string name, DType dtype, std::vector<int64_t> shape) {
  BERTC_CHECK(name != format::kVocabOffsets && name != format::kVocabBytes, impl_->path(),
              ": tensor '", name, "' is reserved for the vocabulary");
  impl_->add_entry(std::move(name), dtype, std::move(shape));
}

void ModelWriter::resize(std::string_view name, std::vector<int64_t> shape) {
  impl_->resize(name, std::move(shape));
}

void ModelWriter::write(std::string_view name, const void* data, size_t nbytes) {
  impl_->write(name, data, nbytes);
}

void ModelWriter::commit() { impl_->commit(); }

}  // namespace bertc
