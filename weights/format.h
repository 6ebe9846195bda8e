// Constants and the fixed header of the .bertc format, shared by the writer and the reader.
// weights/FORMAT.md is the spec; a change here without a change there (and a version bump) is a bug.
#pragma once

#include <cstdint>
#include <cstring>

namespace bertc::format {

constexpr unsigned char kMagic[8] = {0x89, 'B', 'E', 'R', 'T', 'C', '\r', '\n'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kHeaderNbytes = 64;
constexpr uint64_t kAlign = 64;  // tensor data alignment: a cache line, and enough for AVX-512
constexpr uint64_t kMaxMetaNbytes = 16ull << 20;
constexpr uint64_t kMaxTableNbytes = 64ull << 20;
constexpr uint32_t kMaxTensors = 1000000;
constexpr uint32_t kMaxNameLen = 1024;
constexpr int kMaxRank = 4;
constexpr uint64_t kMaxDim = 1ull << 40;

// Canonical names of the vocabulary tensors of kind bert.
constexpr const char* kVocabOffsets = "vocab.offsets";  // u64 [count + 1]
constexpr const char* kVocabBytes = "vocab.bytes";      // u8 [total bytes]

struct Header {
  uint32_t version = kVersion;
  uint32_t kind = 0;
  uint64_t file_nbytes = 0;
  uint64_t meta_nbytes = 0;
  uint64_t table_offset = 0;
  uint64_t table_nbytes = 0;
  uint32_t tensor_count = 0;
};

inline uint64_t align_up(uint64_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

inline void encode_header(const Header& h, unsigned char out[kHeaderNbytes]) {
  std::memset(out, 0, kHeaderNbytes);
  std::memcpy(out, kMagic, 8);
  std::memcpy(out + 8, &h.version, 4);
  std::memcpy(out + 12, &h.kind, 4);
  std::memcpy(out + 16, &h.file_nbytes, 8);
  std::memcpy(out + 24, &h.meta_nbytes, 8);
  std::memcpy(out + 32, &h.table_offset, 8);
  std::memcpy(out + 40, &h.table_nbytes, 8);
  std::memcpy(out + 48, &h.tensor_count, 4);
}

}  // namespace bertc::format
