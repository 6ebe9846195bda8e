// The safetensors reader's in-memory entry point, for tests and the fuzzer; converters call
// read_safetensors (weights/checkpoint.h), which maps the file and calls this.
#pragma once

#include <cstddef>
#include <string>

#include "weights/checkpoint.h"

namespace bertc {

// Parses and validates a whole safetensors file held in `data`. The returned views point into
// `data`, which the caller keeps alive. Throws bertc::Error prefixed with `file`.
Checkpoint parse_safetensors(const unsigned char* data, size_t nbytes, const std::string& file);

}  // namespace bertc
