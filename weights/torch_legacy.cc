// The pre-1.6 torch.save format (torch/serialization.py _legacy_save): five pickles back to back
// (magic number, protocol version 1001, sys_info, the state dict, the sorted storage keys), then
// each storage as an 8-byte little-endian element count and its raw elements. Read from memory,
// every count and length checked against the bytes left; nothing is executed.
#include <cstring>
#include <map>

#include "common/error.h"
#include "weights/pickle.h"
#include "weights/torch_bin.h"

namespace bertc {
namespace {

// pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2): torch's magic number as a 10-byte LONG1.
constexpr uint8_t kMagicPickle[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                    0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e};
constexpr int64_t kLegacyProtocolVersion = 1001;

// The framing pickles hold only ints, bools, strs, dicts and lists: no globals at all.
const std::vector<AllowedGlobal> kNoGlobals;

const PickleValue* dict_get(const PickleValue& dict, std::string_view key) {
  for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    if (dict.items[i]->kind == PickleKind::kString && dict.items[i]->text == key) return dict.items[i + 1];
  }
  return nullptr;
}

uint64_t read_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

}  // namespace

bool is_torch_legacy(const uint8_t* head, size_t nbytes) { return nbytes >= 1 && head[0] == 0x80; }

Checkpoint read_torch_legacy_buffer(const uint8_t* data, size_t nbytes, const std::string& where) {
  BERTC_CHECK(nbytes >= sizeof kMagicPickle && std::memcmp(data, kMagicPickle, sizeof kMagicPickle) == 0,
              where, ": starts like a pickle but not with torch's legacy magic number; not a torch.save file");
  std::string_view bytes(reinterpret_cast<const char*>(data), nbytes);
  size_t pos = sizeof kMagicPickle;

  Unpickled version = unpickle(bytes.substr(pos), kNoGlobals, where + ": protocol version pickle");
  BERTC_CHECK(version.root().kind == PickleKind::kInt && version.root().integer == kLegacyProtocolVersion,
              where, ": legacy torch protocol version is not ", kLegacyProtocolVersion);
  pos += version.end_offset();

  Unpickled sys_info = unpickle(bytes.substr(pos), kNoGlobals, where + ": sys_info pickle");
  BERTC_CHECK(sys_info.root().kind == PickleKind::kDict, where, ": legacy sys_info is not a dict");
  const PickleValue* little = dict_get(sys_info.root(), "little_endian");
  BERTC_CHECK(!little || (little->kind == PickleKind::kBool && little->boolean), where,
              ": saved on a big-endian machine; only little-endian checkpoints are supported");
  pos += sys_info.end_offset();

  size_t pickle_end = 0;
  std::vector<TorchTensorRecord> records =
      read_torch_state_dict(bytes.substr(pos), where + ": state-dict pickle", &pickle_end);
  pos += pickle_end;

  Unpickled keys = unpickle(bytes.substr(pos), kNoGlobals, where + ": storage-key pickle");
  BERTC_CHECK(keys.root().kind == PickleKind::kList, where, ": legacy storage keys are not a list");
  pos += keys.end_offset();

  // Each storage's element size comes from the tensors that use it; the data section is only
  // walkable when every key is known.
  std::map<std::string, const TorchTensorRecord*> by_key;
  for (const TorchTensorRecord& rec : records) by_key.emplace(rec.storage_key, &rec);
  struct Span {
    size_t offset;
    uint64_t nbytes;
  };
  std::map<std::string, Span> spans;  // key -> where its elements are
  for (const PickleValue* key : keys.root().items) {
    BERTC_CHECK(key->kind == PickleKind::kString, where, ": a legacy storage key is a ",
                pickle_kind_name(key->kind), ", not a str");
    auto rec = by_key.find(key->text);
    BERTC_CHECK(rec != by_key.end(), where, ": storage '", key->text, "' is used by no tensor");
    BERTC_CHECK(nbytes - pos >= 8, where, ": truncated: storage '", key->text, "' has no element count");
    uint64_t numel = read_le64(data + pos);
    BERTC_CHECK(numel == static_cast<uint64_t>(rec->second->storage_numel), where, ": storage '", key->text,
                "' holds ", numel, " elements; its tensors expect ", rec->second->storage_numel);
    uint64_t storage_nbytes = 0;
    bool fits = !__builtin_mul_overflow(numel, torch_storage_itemsize(rec->second->storage_type), &storage_nbytes) &&
                storage_nbytes <= nbytes - pos - 8;
    BERTC_CHECK(fits, where, ": truncated: storage '", key->text, "' needs ", numel, " elements, ",
                nbytes - pos - 8, " bytes left");
    BERTC_CHECK(spans.emplace(key->text, Span{pos + 8, storage_nbytes}).second, where, ": storage key '", key->text,
                "' is listed twice");
    pos += 8 + static_cast<size_t>(storage_nbytes);
  }

  return torch_checkpoint(records, where, [&](const TorchTensorRecord& rec, uint64_t storage_nbytes) {
    auto it = spans.find(rec.storage_key);
    BERTC_CHECK(it != spans.end(), where, ": tensor '", rec.name, "' needs storage '", rec.storage_key,
                "', which the storage-key list does not name");
    // Another tensor may have read the key with another type when the stream was walked.
    BERTC_CHECK(it->second.nbytes == storage_nbytes, where, ": tensor '", rec.name, "' reads storage '",
                rec.storage_key, "' as ", storage_nbytes, " bytes; it holds ", it->second.nbytes);
    // Copied out: elements in the stream sit at arbitrary offsets, and views must be aligned.
    std::shared_ptr<uint8_t> copy(new uint8_t[storage_nbytes ? storage_nbytes : 1], std::default_delete<uint8_t[]>());
    std::memcpy(copy.get(), data + it->second.offset, storage_nbytes);
    return std::shared_ptr<const uint8_t>(std::move(copy));
  });
}

}  // namespace bertc
