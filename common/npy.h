// NumPy .npy files (format 1.0/2.0): read float32/float64 little-endian C-order arrays (float64 is
// narrowed to float32) and write float32. Checked by tests/common/npy_test.cc, incl. bad headers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bertc {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;  // C order

  int64_t dim(int i) const { return shape.at(static_cast<size_t>(i)); }
};

// Throws bertc::Error naming the file and what is wrong with it (magic, header, dtype, size).
NpyArray read_npy(const std::string& path);
NpyArray parse_npy(const std::string& bytes, const std::string& name);

// The bytes of a float32 C-order .npy file with this shape (format 1.0, header padded to 64).
std::string npy_bytes(const float* data, const std::vector<int64_t>& shape);
// Writes through OutputFile (atomically for a regular or new file).
void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape);

}  // namespace bertc
