// Vocab: WordPiece tokens in id order (vocab.txt or a .bertc) and TokenTable, the allocation-free
// string -> id hash lookup that WordPiece runs on every piece. Tested in tests/tokenizer/vocab_test.cc.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace bertc {

// Open-addressing hash table from byte strings to ids, owning a copy of its keys in one arena.
// The hash is FNV-1a, which extends one byte at a time, so WordPiece hashes every prefix of a word
// in a single pass (hash_step) and probes with the precomputed value (find_hashed). A slot holds
// a 32-bit tag of the hash and the key's place in the arena: a probe touches the slot and, on a
// tag match, the key bytes, nothing else.
class TokenTable {
 public:
  static constexpr uint64_t kHashSeed = 0xcbf29ce484222325ull;
  static uint64_t hash_step(uint64_t h, unsigned char b) { return (h ^ b) * 0x100000001b3ull; }
  static uint64_t hash(std::string_view key) {
    uint64_t h = kHashSeed;
    for (unsigned char b : key) h = hash_step(h, b);
    return h;
  }

  // `keys[i]` gets `ids[i]`. Keys must be distinct.
  void build(const std::vector<std::string_view>& keys, const std::vector<int32_t>& ids);

  int32_t find_hashed(std::string_view key, uint64_t h) const {  // -1 if absent
    if (slots_.empty()) return -1;
    const auto tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = slot_of(h);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.tag == tag && s.nbytes == key.size() &&
          std::memcmp(arena_.data() + s.offset, key.data(), key.size()) == 0) {
        return s.id;
      }
    }
  }
  int32_t find(std::string_view key) const { return find_hashed(key, hash(key)); }
  size_t max_key_bytes() const { return max_key_bytes_; }

 private:
  struct Slot {
    uint32_t tag = 0;     // high half of the hash
    int32_t id = -1;      // -1: empty
    uint32_t offset = 0;  // key bytes in arena_
    uint32_t nbytes = 0;
  };
  // FNV-1a's low bits mix poorly for short keys; fold the high half in before masking.
  size_t slot_of(uint64_t h) const { return (h ^ (h >> 29) ^ (h >> 47)) & mask_; }

  std::vector<Slot> slots_;
  std::string arena_;
  size_t mask_ = 0;
  size_t max_key_bytes_ = 0;
};

class Vocab {
 public:
  // vocab.txt: one token per line (LF or CRLF), line N is id N-1. Empty lines, duplicates and
  // invalid UTF-8 are errors naming the file and line.
  static Vocab from_file(const std::string& path);
  // `source_name` names the vocab in error messages (a file path, "model.bertc", ...).
  static Vocab from_tokens(std::vector<std::string> tokens, std::string source_name);

  Vocab(Vocab&&) = default;
  Vocab& operator=(Vocab&&) = default;

  int32_t id(std::string_view token) const { return table_.find(token); }  // -1 if absent
  const std::string& token(int32_t id) const;  // throws on an id out of range
  size_t size() const { return tokens_.size(); }
  const std::string& source_name() const { return source_; }
  const TokenTable& table() const { return table_; }

 private:
  Vocab() = default;
  std::vector<std::string> tokens_;
  std::string source_;
  TokenTable table_;
};

}  // namespace bertc
