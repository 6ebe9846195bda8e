// A source checkpoint read by a converter: named tensors as views into buffers it keeps alive.
// Readers: weights/safetensors.* (model.safetensors, sharded index) and weights/torch_bin.*
// (pytorch_model.bin zip, read by an allow-list unpickler that never executes anything).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/dtype.h"

namespace bertc {

struct CheckpointTensor {
  std::string name;            // as in the source file
  DType dtype = DType::kF32;   // f32 | f16 | bf16 (others are rejected by the readers)
  std::vector<int64_t> shape;
  const void* data = nullptr;  // contiguous, row-major, little-endian
  uint64_t nbytes = 0;
};

struct Checkpoint {
  std::vector<CheckpointTensor> tensors;
  std::vector<std::shared_ptr<const void>> keep_alive;  // mappings / buffers the views point into
};

// Each throws bertc::Error naming the file and the problem; nothing is executed or trusted.
Checkpoint read_safetensors(const std::string& path);  // a .safetensors file or *.index.json
Checkpoint read_torch_bin(const std::string& path);    // torch.save zip format

}  // namespace bertc
