// bertc_hash64 (weights/FORMAT.md, "Checksum"): four independent lanes over 32-byte blocks keep
// the multiplies pipelined, so hashing runs near memory bandwidth. Checked in tests/weights/hash_test.cc.
#include "weights/hash.h"

#include <cstring>

namespace bertc {
namespace {

constexpr uint64_t kP1 = 0x9E3779B185EBCA87ull;
constexpr uint64_t kP2 = 0xC2B2AE3D27D4EB4Full;
constexpr uint64_t kP3 = 0x165667B19E3779F9ull;

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t mix(uint64_t acc, uint64_t x) { return rotl(acc + x * kP2, 31) * kP1; }
inline uint64_t fold(uint64_t h, uint64_t x) { return rotl(h ^ mix(0, x), 27) * kP1 + kP2; }
inline uint64_t load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);  // little-endian hosts only (x86-64, aarch64), as the whole format
  return v;
}

}  // namespace

void Hasher64::update(const void* data, size_t nbytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  total_nbytes_ += nbytes;
  if (pending_nbytes_) {
    size_t take = nbytes < 32 - pending_nbytes_ ? nbytes : 32 - pending_nbytes_;
    std::memcpy(pending_ + pending_nbytes_, p, take);
    pending_nbytes_ += take;
    p += take;
    nbytes -= take;
    if (pending_nbytes_ < 32) return;
    for (int k = 0; k < 4; ++k) lanes_[k] = mix(lanes_[k], load64(pending_ + 8 * k));
    pending_nbytes_ = 0;
  }
  uint64_t a0 = lanes_[0], a1 = lanes_[1], a2 = lanes_[2], a3 = lanes_[3];
  for (; nbytes >= 32; p += 32, nbytes -= 32) {
    a0 = mix(a0, load64(p));
    a1 = mix(a1, load64(p + 8));
    a2 = mix(a2, load64(p + 16));
    a3 = mix(a3, load64(p + 24));
  }
  lanes_[0] = a0; lanes_[1] = a1; lanes_[2] = a2; lanes_[3] = a3;
  std::memcpy(pending_, p, nbytes);
  pending_nbytes_ = nbytes;
}

uint64_t Hasher64::finish() const {
  uint64_t h = total_nbytes_ * kP3;
  for (uint64_t lane : lanes_) h = fold(h, lane);
  size_t i = 0;
  for (; i + 8 <= pending_nbytes_; i += 8) h = fold(h, load64(pending_ + i));
  if (i < pending_nbytes_) {
    unsigned char last[8] = {};
    std::memcpy(last, pending_ + i, pending_nbytes_ - i);
    h = fold(h, load64(last));
  }
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

uint64_t bertc_hash64(const void* data, size_t nbytes) {
  Hasher64 h;
  h.update(data, nbytes);
  return h.finish();
}

}  // namespace bertc
