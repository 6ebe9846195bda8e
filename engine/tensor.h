// Tensor: a non-owning, row-major, contiguous view of up to 4 dims on one device. Buffer owns.
// Shape letters used in comments throughout bertc:
//   B batch (sequences), T tokens per sequence, N packed tokens (sum of T over the batch),
//   H hidden, NH heads, D head dim (H / NH), I intermediate, V vocab, P max positions.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "common/dtype.h"
#include "common/error.h"

namespace bertc {

enum class Device { kCpu, kCuda };

struct Shape {
  std::array<int64_t, 4> dims{};
  int rank = 0;

  Shape() = default;
  Shape(std::initializer_list<int64_t> d) {
    BERTC_CHECK(d.size() <= 4, "tensor rank ", d.size(), " exceeds 4");
    for (int64_t v : d) dims[rank++] = v;
  }
  int64_t operator[](int i) const { return dims[i]; }
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
  bool operator==(const Shape& o) const {
    if (rank != o.rank) return false;
    for (int i = 0; i < rank; ++i)
      if (dims[i] != o.dims[i]) return false;
    return true;
  }
  std::string str() const {
    std::string s = "[";
    for (int i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
  }
};

struct Tensor {
  void* data = nullptr;
  DType dtype = DType::kF32;
  Shape shape;
  Device device = Device::kCpu;

  int64_t numel() const { return shape.numel(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_nbytes(dtype); }
  template <typename T>
  T* as() const { return static_cast<T*>(data); }
  // Rows [begin, end) of the first dimension, as a view.
  Tensor rows(int64_t begin, int64_t end) const {
    Tensor t = *this;
    int64_t row_elems = shape.rank ? numel() / shape[0] : 0;
    t.data = static_cast<char*>(data) + begin * row_elems * static_cast<int64_t>(dtype_nbytes(dtype));
    t.shape.dims[0] = end - begin;
    return t;
  }
};

}  // namespace bertc
