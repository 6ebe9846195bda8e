// bertc_hash64: the .bertc tensor checksum, a 64-bit word-at-a-time hash (spec and constants in
// weights/FORMAT.md). Fast enough to verify a model at memory bandwidth; not cryptographic.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bertc {

uint64_t bertc_hash64(const void* data, size_t nbytes);

// Incremental form for data that arrives in pieces (the writer streams tensors); gives the same
// value as bertc_hash64 over the concatenation.
class Hasher64 {
 public:
  void update(const void* data, size_t nbytes);
  uint64_t finish() const;

 private:
  uint64_t lanes_[4] = {0x9E3779B185EBCA87ull, 0x9E3779B185EBCA87ull * 2,
                        0x9E3779B185EBCA87ull * 3, 0x9E3779B185EBCA87ull * 4};
  unsigned char pending_[32];  // bytes of an incomplete 32-byte block
  size_t pending_nbytes_ = 0;
  uint64_t total_nbytes_ = 0;
};

}  // namespace bertc
