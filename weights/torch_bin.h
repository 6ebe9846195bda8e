// pytorch_model.bin (torch.save) reader. read_torch_bin itself is declared in weights/checkpoint.h;
// this header adds the in-memory entry points the tests and fuzzer use. Zip layout (torch >= 1.6):
// <prefix>/data.pkl (a pickled state dict), <prefix>/data/<key> (raw storages), <prefix>/byteorder
// (optional, must say "little"); the legacy layout is below. Checked in tests/weights/torch_bin_test.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "weights/checkpoint.h"

namespace bertc {

// One state-dict entry as data.pkl describes it; nothing is loaded yet.
struct TorchTensorRecord {
  std::string name;           // the state-dict key
  std::string storage_type;   // "torch.FloatStorage", ...
  std::string storage_key;    // the entry <prefix>/data/<key>
  int64_t storage_numel = 0;  // elements in the whole storage (from the persistent id)
  int64_t storage_offset = 0; // elements
  std::vector<int64_t> shape;
  std::vector<int64_t> stride;  // elements; checked to be contiguous for shape
};

// Parses data.pkl bytes with the state-dict allow-list. `where` prefixes error messages. When
// `pickle_end` is given it receives the offset just past STOP (legacy files continue after it).
std::vector<TorchTensorRecord> read_torch_state_dict(std::string_view pickle, const std::string& where,
                                                     size_t* pickle_end = nullptr);

// read_torch_bin on bytes held in memory (a zip, or the legacy format); `where` names them in
// messages. The result owns copies.
Checkpoint read_torch_bin_buffer(const void* data, size_t nbytes, const std::string& where);

// ---- shared by the zip reader (torch_bin.cc) and the legacy reader (torch_legacy.cc) ----------

// Bytes per element of a storage type read_torch_state_dict accepted ("torch.HalfStorage": 2).
size_t torch_storage_itemsize(std::string_view storage_type);

// Returns the bytes of rec's storage, exactly `nbytes` (= storage_numel x itemsize) long, or throws.
using TorchStorageLoader =
    std::function<std::shared_ptr<const uint8_t>(const TorchTensorRecord& rec, uint64_t nbytes)>;

// Records -> Checkpoint: f32/f16/bf16 tensors are kept; integer position_ids / token_type_ids
// buffers are skipped (HF derives them from the config); any other dtype is refused. Each storage
// key is loaded once, so tied weights share one buffer.
Checkpoint torch_checkpoint(const std::vector<TorchTensorRecord>& records, const std::string& where,
                            const TorchStorageLoader& load);

// The pre-1.6 format: magic, version and sys_info pickles, the state-dict pickle, a pickled list
// of storage keys, then per key an 8-byte little-endian element count and the raw elements.
bool is_torch_legacy(const uint8_t* head, size_t nbytes);  // starts with a pickle, not a zip
Checkpoint read_torch_legacy_buffer(const uint8_t* data, size_t nbytes, const std::string& where);

}  // namespace bertc
