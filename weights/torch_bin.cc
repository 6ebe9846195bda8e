// read_torch_bin: pytorch_model.bin (torch.save zip) -> Checkpoint, without executing anything.
// data.pkl goes through the allow-list unpickler (weights/pickle.h); its persistent ids name the
// storages under <prefix>/data/, which libzip reads (stored or deflated), each size checked.
// Files that start with a pickle instead of a zip go to the legacy reader (torch_legacy.cc).
#include "weights/torch_bin.h"

#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>

#include "common/error.h"
#include "common/strings.h"
#include "weights/pickle.h"

namespace bertc {
namespace {

struct StorageType {
  std::string_view name;
  size_t itemsize;
  std::optional<DType> float_dtype;  // set for the types a Checkpoint carries
};

const StorageType kStorageTypes[] = {
    {"torch.FloatStorage", 4, DType::kF32},  {"torch.HalfStorage", 2, DType::kF16},
    {"torch.BFloat16Storage", 2, DType::kBF16}, {"torch.DoubleStorage", 8, std::nullopt},
    {"torch.LongStorage", 8, std::nullopt},  {"torch.IntStorage", 4, std::nullopt},
    {"torch.ShortStorage", 2, std::nullopt}, {"torch.CharStorage", 1, std::nullopt},
    {"torch.ByteStorage", 1, std::nullopt},  {"torch.BoolStorage", 1, std::nullopt},
};

const StorageType* find_storage_type(std::string_view name) {
  for (const StorageType& t : kStorageTypes) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// Everything data.pkl of a state dict may name. The storage types appear only as values inside
// persistent ids; the rest may be called (REDUCE records the call, the reader interprets it).
const std::vector<AllowedGlobal>& state_dict_globals() {
  static const std::vector<AllowedGlobal> globals = [] {
    std::vector<AllowedGlobal> g = {
        {"collections.OrderedDict", GlobalUse::kCall},
        {"torch._utils._rebuild_tensor_v2", GlobalUse::kCall},
        {"torch._utils._rebuild_parameter", GlobalUse::kCall},
        {"torch.Size", GlobalUse::kCall},
    };
    for (const StorageType& t : kStorageTypes) g.push_back({t.name, GlobalUse::kValue});
    return g;
  }();
  return globals;
}

// data.pkl is a few hundred bytes per tensor; a bigger one is hostile, not a model.
constexpr uint64_t kMaxPickleBytes = 64ull << 20;
// Deflate cannot expand data more than ~1032x; an entry claiming more lies about its size.
constexpr uint64_t kMaxDeflateRatio = 1100;

// ---- data.pkl -> TorchTensorRecords -----------------------------------------------------------

class StateDictParser {
 public:
  explicit StateDictParser(const std::string& where) : where_(where) {}

  std::vector<TorchTensorRecord> parse(const PickleValue& root) {
    BERTC_CHECK(root.kind == PickleKind::kDict, where_, ": holds a ", pickle_kind_name(root.kind),
                ", not a state dict (a dict of tensors)");
    std::vector<TorchTensorRecord> records;
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i + 1 < root.items.size(); i += 2) {
      const PickleValue& key = *root.items[i];
      BERTC_CHECK(key.kind == PickleKind::kString, where_, ": state-dict key ", i / 2, " is a ",
                  pickle_kind_name(key.kind), ", not a str");
      BERTC_CHECK(seen.emplace(key.text, i).second, where_, ": state-dict key '", key.text,
                  "' appears twice");
      TorchTensorRecord rec;
      rec.name = key.text;
      tensor(*root.items[i + 1], rec);
      records.push_back(std::move(rec));
    }
    return records;
  }

 private:
  [[noreturn]] void fail(const TorchTensorRecord& rec, const std::string& problem) const {
    BERTC_FAIL(where_, ": tensor '", rec.name, "': ", problem);
  }

  const PickleValue& arg(const PickleValue& call, size_t i) const { return *call.items[1]->items[i]; }
  size_t arity(const PickleValue& call) const { return call.items[1]->items.size(); }

  int64_t integer(const PickleValue& v, const TorchTensorRecord& rec, const char* what) const {
    if (v.kind != PickleKind::kInt) fail(rec, str_cat(what, " is a ", pickle_kind_name(v.kind), ", not an int"));
    return v.integer;
  }
  std::vector<int64_t> int_tuple(const PickleValue& v, const TorchTensorRecord& rec, const char* what) const {
    if (v.kind != PickleKind::kTuple) fail(rec, str_cat(what, " is a ", pickle_kind_name(v.kind), ", not a tuple"));
    std::vector<int64_t> out;
    for (const PickleValue* item : v.items) out.push_back(integer(*item, rec, what));
    return out;
  }

  // _rebuild_parameter(data, requires_grad, backward_hooks) wraps one _rebuild_tensor_v2(storage,
  // storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).
  void tensor(const PickleValue& v, TorchTensorRecord& rec) const {
    const PickleValue* t = &v;
    if (t->kind == PickleKind::kCall && t->items[0]->text == "torch._utils._rebuild_parameter") {
      if (arity(*t) < 1) fail(rec, "_rebuild_parameter has no arguments");
      t = &arg(*t, 0);
    }
    if (t->kind != PickleKind::kCall || t->items[0]->text != "torch._utils._rebuild_tensor_v2") {
      fail(rec, str_cat("value is a ", pickle_kind_name(t->kind),
                        t->kind == PickleKind::kCall ? " to '" + t->items[0]->text + "'" : std::string(),
                        ", not a tensor"));
    }
    if (arity(*t) != 6 && arity(*t) != 7) {
      fail(rec, str_cat("_rebuild_tensor_v2 has ", arity(*t), " arguments, expected 6 or 7"));
    }
    storage(arg(*t, 0), rec);
    rec.storage_offset = integer(arg(*t, 1), rec, "storage offset");
    rec.shape = int_tuple(arg(*t, 2), rec, "size");
    rec.stride = int_tuple(arg(*t, 3), rec, "stride");
    check_layout(rec);
  }

  // The persistent id ('storage', storage_type, key, location, numel) written by torch.save;
  // the legacy format appends view_metadata, None unless the storage is a view of another.
  void storage(const PickleValue& v, TorchTensorRecord& rec) const {
    if (v.kind != PickleKind::kPersistentId) {
      fail(rec, str_cat("storage is a ", pickle_kind_name(v.kind), ", not a persistent id"));
    }
    const PickleValue& id = *v.items[0];
    if (id.kind != PickleKind::kTuple || (id.items.size() != 5 && id.items.size() != 6) ||
        id.items[0]->kind != PickleKind::kString || id.items[0]->text != "storage") {
      fail(rec, "persistent id is not ('storage', type, key, location, numel[, view_metadata])");
    }
    if (id.items.size() == 6 && id.items[5]->kind != PickleKind::kNone) {
      fail(rec, "its storage is a view of another storage (legacy view metadata), which is not supported");
    }
    if (id.items[1]->kind != PickleKind::kGlobal || !find_storage_type(id.items[1]->text)) {
      fail(rec, "persistent id does not name a torch.*Storage type");
    }
    rec.storage_type = id.items[1]->text;
    if (id.items[2]->kind != PickleKind::kString) fail(rec, "storage key is not a str");
    rec.storage_key = id.items[2]->text;
    bool key_ok = !rec.storage_key.empty() && rec.storage_key.size() <= 64 &&
                  std::all_of(rec.storage_key.begin(), rec.storage_key.end(), [](char c) {
                    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
                  });
    if (!key_ok) fail(rec, "storage key is not a plain name (letters, digits, '_')");
    rec.storage_numel = integer(*id.items[4], rec, "storage numel");
    if (rec.storage_numel < 0) fail(rec, str_cat("storage numel ", rec.storage_numel, " is negative"));
  }

  // Shape, offset and strides must describe a contiguous row-major block inside the storage.
  void check_layout(const TorchTensorRecord& rec) const {
    if (rec.shape.size() != rec.stride.size()) {
      fail(rec, str_cat("size ", shape_str(rec.shape), " and stride ", shape_str(rec.stride),
                        " have different ranks"));
    }
    int64_t numel = 1;
    for (int64_t d : rec.shape) {
      if (d < 0) fail(rec, str_cat("size ", shape_str(rec.shape), " has a negative dimension"));
      if (__builtin_mul_overflow(numel, d, &numel)) fail(rec, str_cat("size ", shape_str(rec.shape), " overflows"));
    }
    // An empty tensor has no layout to check (and its other dimensions may be anything).
    int64_t expected = 1;
    for (size_t i = rec.shape.size(); numel != 0 && i-- > 0;) {
      // A dimension of size 1 is contiguous whatever its stride (torch leaves it arbitrary).
      if (rec.shape[i] != 1 && rec.stride[i] != expected) {
        fail(rec, str_cat("stride ", shape_str(rec.stride), " for size ", shape_str(rec.shape),
                          " is not contiguous; save it with .contiguous()"));
      }
      expected *= rec.shape[i];  // cannot overflow: a partial product of numel, checked above
    }
    int64_t end = 0;
    if (rec.storage_offset < 0 || __builtin_add_overflow(rec.storage_offset, numel, &end) ||
        end > rec.storage_numel) {
      fail(rec, str_cat("elements [", rec.storage_offset, ", ", rec.storage_offset, " + ", numel,
                        ") lie outside its storage of ", rec.storage_numel, " elements"));
    }
  }

  const std::string& where_;
};

// ---- the zip --------------------------------------------------------------------------------

std::string zip_error_text(int code) {
  zip_error_t err;
  zip_error_init_with_code(&err, code);
  std::string text = zip_error_strerror(&err);
  zip_error_fini(&err);
  return text;
}

// Tells a zip from what people mistake for one, before libzip gives a vaguer answer.
void check_zip_magic(const uint8_t* head, size_t n, const std::string& where) {
  BERTC_CHECK(n >= 2 && head[0] == 'P' && head[1] == 'K', where,
              ": neither a zip archive nor a legacy torch pickle, so not a torch.save file (pytorch_model.bin)");
}

class TorchZip {
 public:
  TorchZip(zip_t* archive, std::string where) : zip_(archive), where_(std::move(where)) {}
  ~TorchZip() { zip_discard(zip_); }
  TorchZip(const TorchZip&) = delete;
  TorchZip& operator=(const TorchZip&) = delete;

  const std::string& where() const { return where_; }

  // The one "<prefix>/data.pkl"; torch.save names the prefix after the file, so it varies.
  std::string find_prefix() const {
    std::string prefix;
    zip_int64_t n = zip_get_num_entries(zip_, 0);
    for (zip_int64_t i = 0; i < n; ++i) {
      const char* name = zip_get_name(zip_, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
      if (!name) continue;
      std::string_view s(name);
      size_t slash = s.find('/');
      if (slash == std::string_view::npos || s.substr(slash) != "/data.pkl") continue;
      BERTC_CHECK(prefix.empty(), where_, ": two data.pkl entries ('", prefix, "/data.pkl' and '", s,
                  "'); expected one torch.save archive");
      prefix = std::string(s.substr(0, slash));
    }
    BERTC_CHECK(!prefix.empty(), where_, ": no <folder>/data.pkl entry, so not a torch.save archive");
    return prefix;
  }

  std::optional<zip_uint64_t> locate(const std::string& name) const {
    zip_int64_t index = zip_name_locate(zip_, name.c_str(), ZIP_FL_ENC_RAW);
    if (index < 0) return std::nullopt;
    return static_cast<zip_uint64_t>(index);
  }

  uint64_t size(zip_uint64_t index, const std::string& name) const {
    zip_stat_t st;
    zip_stat_init(&st);
    BERTC_CHECK(zip_stat_index(zip_, index, 0, &st) == 0, where_, ": cannot stat entry '", name,
                "': ", zip_strerror(zip_));
    BERTC_CHECK((st.valid & ZIP_STAT_SIZE) && (st.valid & ZIP_STAT_COMP_SIZE), where_, ": entry '",
                name, "' has no recorded size");
    BERTC_CHECK(!(st.valid & ZIP_STAT_ENCRYPTION_METHOD) || st.encryption_method == ZIP_EM_NONE,
                where_, ": entry '", name, "' is encrypted");
    uint64_t limit = 0;
    bool plausible = !__builtin_mul_overflow(st.comp_size, kMaxDeflateRatio, &limit) &&
                     st.size <= limit + 4096;
    BERTC_CHECK(plausible, where_, ": entry '", name, "' claims ", st.size, " bytes from ",
                st.comp_size, " compressed bytes, more than deflate can produce");
    return st.size;
  }

  // Reads the whole entry, which must hold exactly nbytes (libzip checks the CRC at the end).
  void read(zip_uint64_t index, const std::string& name, uint8_t* out, uint64_t nbytes) const {
    zip_file_t* f = zip_fopen_index(zip_, index, 0);
    BERTC_CHECK(f != nullptr, where_, ": cannot open entry '", name, "': ", zip_strerror(zip_));
    uint64_t done = 0;
    std::string problem;
    while (problem.empty()) {
      uint8_t extra;  // reading one byte past nbytes proves the entry is not longer than claimed
      zip_int64_t got = done < nbytes ? zip_fread(f, out + done, nbytes - done) : zip_fread(f, &extra, 1);
      if (got < 0) problem = zip_file_strerror(f);
      else if (got == 0) break;
      else if (done >= nbytes) problem = "entry is longer than its recorded size";
      else done += static_cast<uint64_t>(got);
    }
    zip_fclose(f);
    BERTC_CHECK(problem.empty(), where_, ": cannot read entry '", name, "': ", problem);
    BERTC_CHECK(done == nbytes, where_, ": entry '", name, "' ends after ", done, " of ", nbytes, " bytes");
  }

  std::string read_string(const std::string& name, uint64_t max_bytes) const {
    std::optional<zip_uint64_t> index = locate(name);
    BERTC_CHECK(index.has_value(), where_, ": missing entry '", name, "'");
    uint64_t nbytes = size(*index, name);
    BERTC_CHECK(nbytes <= max_bytes, where_, ": entry '", name, "' is ", nbytes, " bytes, more than the ",
                max_bytes, " this reader accepts");
    std::string s(static_cast<size_t>(nbytes), '\0');
    read(*index, name, reinterpret_cast<uint8_t*>(s.data()), nbytes);
    return s;
  }

 private:
  zip_t* zip_;
  std::string where_;
};

struct LoadedStorage {
  std::shared_ptr<const uint8_t> bytes;
  std::string type;
  int64_t numel = 0;
};

bool is_index_buffer(const std::string& name) {
  return name.ends_with("position_ids") || name.ends_with("token_type_ids");
}

Checkpoint read_archive(const TorchZip& zip) {
  const std::string& where = zip.where();
  std::string prefix = zip.find_prefix();
  std::string byteorder_name = prefix + "/byteorder";
  if (zip.locate(byteorder_name)) {
    std::string order = zip.read_string(byteorder_name, 16);
    BERTC_CHECK(order == "little", where, ": byteorder is '", order,
                "'; only little-endian checkpoints are supported");
  }
  std::string pkl_name = prefix + "/data.pkl";
  std::string pickle = zip.read_string(pkl_name, kMaxPickleBytes);
  std::vector<TorchTensorRecord> records = read_torch_state_dict(pickle, where + ": " + pkl_name);

  return torch_checkpoint(records, where, [&](const TorchTensorRecord& rec, uint64_t nbytes) {
    std::string entry = prefix + "/data/" + rec.storage_key;
    std::optional<zip_uint64_t> index = zip.locate(entry);
    BERTC_CHECK(index.has_value(), where, ": tensor '", rec.name, "' needs storage entry '", entry,
                "', which is missing");
    uint64_t entry_nbytes = zip.size(*index, entry);
    BERTC_CHECK(entry_nbytes == nbytes, where, ": storage entry '", entry, "' holds ", entry_nbytes,
                " bytes; tensor '", rec.name, "' expects ", rec.storage_numel, " elements of ",
                torch_storage_itemsize(rec.storage_type), " bytes");
    std::shared_ptr<uint8_t> bytes(new uint8_t[nbytes ? nbytes : 1], std::default_delete<uint8_t[]>());
    zip.read(*index, entry, bytes.get(), nbytes);
    return std::shared_ptr<const uint8_t>(std::move(bytes));
  });
}

}  // namespace

size_t torch_storage_itemsize(std::string_view storage_type) {
  const StorageType* type = find_storage_type(storage_type);
  BERTC_CHECK(type != nullptr, "unknown torch storage type '", storage_type, "'");
  return type->itemsize;
}

Checkpoint torch_checkpoint(const std::vector<TorchTensorRecord>& records, const std::string& where,
                            const TorchStorageLoader& load) {
  Checkpoint ckpt;
  std::map<std::string, LoadedStorage> storages;  // by key: tied weights share one storage
  for (const TorchTensorRecord& rec : records) {
    const StorageType* found = find_storage_type(rec.storage_type);
    BERTC_CHECK(found != nullptr, where, ": tensor '", rec.name, "' has unknown storage type '",
                rec.storage_type, "'");
    const StorageType& type = *found;
    if (!type.float_dtype) {
      // HF BERT keeps position_ids / token_type_ids as integer buffers derived from the config.
      if (is_index_buffer(rec.name)) continue;
      BERTC_FAIL(where, ": tensor '", rec.name, "' is stored as ", rec.storage_type,
                 "; only float32, float16 and bfloat16 tensors are supported");
    }
    auto it = storages.find(rec.storage_key);
    if (it == storages.end()) {
      uint64_t nbytes = 0;
      BERTC_CHECK(!__builtin_mul_overflow(static_cast<uint64_t>(rec.storage_numel), type.itemsize, &nbytes),
                  where, ": tensor '", rec.name, "': storage of ", rec.storage_numel, " elements overflows");
      LoadedStorage loaded{load(rec, nbytes), rec.storage_type, rec.storage_numel};
      it = storages.emplace(rec.storage_key, std::move(loaded)).first;
      ckpt.keep_alive.push_back(it->second.bytes);
    }
    const LoadedStorage& storage = it->second;
    BERTC_CHECK(storage.type == rec.storage_type && storage.numel == rec.storage_numel, where,
                ": tensor '", rec.name, "' reads storage '", rec.storage_key, "' as ", rec.storage_numel,
                " x ", rec.storage_type, ", another tensor as ", storage.numel, " x ", storage.type);
    int64_t numel = 1;
    for (int64_t d : rec.shape) numel *= d;  // checked against the storage by the parser
    CheckpointTensor t;
    t.name = rec.name;
    t.dtype = *type.float_dtype;
    t.shape = rec.shape;
    t.data = storage.bytes.get() + static_cast<uint64_t>(rec.storage_offset) * type.itemsize;
    t.nbytes = static_cast<uint64_t>(numel) * type.itemsize;
    ckpt.tensors.push_back(std::move(t));
  }
  return ckpt;
}

std::vector<TorchTensorRecord> read_torch_state_dict(std::string_view pickle, const std::string& where,
                                                     size_t* pickle_end) {
  Unpickled tree = unpickle(pickle, state_dict_globals(), where);
  if (pickle_end) *pickle_end = tree.end_offset();
  return StateDictParser(where).parse(tree.root());
}

Checkpoint read_torch_bin_buffer(const void* data, size_t nbytes, const std::string& where) {
  const uint8_t* bytes = static_cast<const uint8_t*>(data);
  if (is_torch_legacy(bytes, nbytes)) return read_torch_legacy_buffer(bytes, nbytes, where);
  check_zip_magic(bytes, nbytes, where);
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(data, nbytes, 0, &err);
  BERTC_CHECK(src != nullptr, where, ": cannot read the zip: ", zip_error_strerror(&err));
  zip_t* archive = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (!archive) {
    zip_source_free(src);
    std::string text = zip_error_strerror(&err);
    zip_error_fini(&err);
    BERTC_FAIL(where, ": not a readable zip archive: ", text);
  }
  zip_error_fini(&err);
  TorchZip zip(archive, where);
  return read_archive(zip);
}

Checkpoint read_torch_bin(const std::string& path) {
  uint8_t head[4] = {};
  size_t n = 0;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  BERTC_CHECK(f != nullptr, path, ": cannot open for reading: ", std::strerror(errno));
  n = std::fread(head, 1, sizeof head, f);
  if (is_torch_legacy(head, n)) {
    // The legacy layout is one stream of pickles and storages: read it whole (its storages are
    // copied out again, aligned, so the peak is twice the file).
    std::string bytes;
    bool ok = std::fseek(f, 0, SEEK_END) == 0;
    long size = ok ? std::ftell(f) : -1;
    ok = size >= 0 && std::fseek(f, 0, SEEK_SET) == 0;
    if (ok) {
      bytes.resize(static_cast<size_t>(size));
      ok = std::fread(bytes.data(), 1, bytes.size(), f) == bytes.size();
    }
    std::fclose(f);
    BERTC_CHECK(ok, path, ": cannot read the file");
    return read_torch_legacy_buffer(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path);
  }
  std::fclose(f);
  check_zip_magic(head, n, path);
  int code = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  BERTC_CHECK(archive != nullptr, path, ": not a readable zip archive: ", zip_error_text(code));
  TorchZip zip(archive, path);
  return read_archive(zip);
}

}  // namespace bertc
