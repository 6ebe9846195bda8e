// pytorch_model.bin (torch.save zip format) reader. read_torch_bin itself is declared in
// weights/checkpoint.h; this header adds the in-memory entry points the tests and fuzzer use.
// Layout: <prefix>/data.pkl (a pickled state dict), <prefix>/data/<key> (raw storages),
// <prefix>/byteorder (optional, must say "little"). Checked in tests/weights/torch_bin_test.cc.
#pragma once

#include <cstddef>
#include <cstdint>
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

// Parses data.pkl bytes with the state-dict allow-list. `where` prefixes error messages.
std::vector<TorchTensorRecord> read_torch_state_dict(std::string_view pickle, const std::string& where);

// read_torch_bin on a zip held in memory; `where` names it in messages. The result owns copies.
Checkpoint read_torch_bin_buffer(const void* data, size_t nbytes, const std::string& where);

}  // namespace bertc
