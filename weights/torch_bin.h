// pytorch_model.bin (torch.save zip format) reader: read_torch_bin is declared in
// weights/checkpoint.h; this header holds the in-memory entry point used by the fuzz target.
#pragma once

#include <cstddef>
#include <string>

#include "weights/checkpoint.h"

namespace bertc {

// Reads a torch.save zip held in memory (the bytes must outlive nothing: the result owns copies).
// `name` is used in error messages in place of a path.
Checkpoint read_torch_bin_buffer(const void* data, size_t nbytes, const std::string& name);

}  // namespace bertc
