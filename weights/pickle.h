// An allow-list unpickler: runs pickle opcodes (protocols 2-5, the subset torch.save and plain
// containers use) into a tree of PickleValues without executing anything. Globals must be on the
// caller's allow-list; REDUCE only records the call. Checked in tests/weights/pickle_test.cc.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace bertc {

enum class PickleKind {
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,        // str (UTF-8 as stored)
  kBytes,
  kTuple,         // items
  kList,          // items
  kDict,          // items = key0, value0, key1, value1, ... in insertion order
  kGlobal,        // text = "module.name"
  kCall,          // items = {callable (a kGlobal), args (a kTuple)}: a REDUCE, recorded, not run
  kPersistentId,  // items = {the id}: BINPERSID, resolved by the caller
};

std::string_view pickle_kind_name(PickleKind kind);

struct PickleValue {
  PickleKind kind = PickleKind::kNone;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;                  // kString, kBytes, kGlobal
  std::vector<PickleValue*> items;   // kTuple, kList, kDict, kCall, kPersistentId
  uint32_t depth = 1;                // containers: 1 + deepest item when built (bounds nesting)
};

// How an allowed global may be used: kCall globals may be REDUCE'd (their arguments are
// recorded), kValue globals may only be referenced (e.g. a storage type in a persistent id).
enum class GlobalUse { kValue, kCall };
struct AllowedGlobal {
  std::string_view name;  // "module.name"
  GlobalUse use;
};

// Bounds that keep a hostile pickle from exhausting memory or the stack of a consumer.
constexpr uint32_t kPickleMaxDepth = 100;       // container / MARK nesting
constexpr size_t kPickleMaxObjects = 1 << 22;   // values built (a BERT state dict builds ~2k)

// The unpickled tree; values live in an arena so cycles (a list appended to itself) cannot leak.
class Unpickled {
 public:
  const PickleValue& root() const { return *root_; }
  size_t end_offset() const { return end_offset_; }  // just past STOP: legacy torch files go on

 private:
  friend Unpickled unpickle(std::string_view, const std::vector<AllowedGlobal>&, const std::string&);
  std::deque<PickleValue> arena_;
  const PickleValue* root_ = nullptr;
  size_t end_offset_ = 0;
};

// Throws bertc::Error "<where>: <problem> at offset N" for anything outside the allow-list
// (naming the global or opcode), truncation, bad memo references, or nesting past the bounds.
// Two collections.OrderedDict / torch.Size-like calls are understood, when allowed: a REDUCE of
// "collections.OrderedDict" with no arguments yields an empty kDict (so SETITEMS can fill it) and
// a REDUCE of "torch.Size" with one tuple yields that tuple. BUILD is accepted only on a dict
// (the state of an OrderedDict subclass, e.g. torch's _metadata) and its state is dropped.
Unpickled unpickle(std::string_view bytes, const std::vector<AllowedGlobal>& allowed,
                   const std::string& where);

}  // namespace bertc
