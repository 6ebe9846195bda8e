// The allow-list unpickler (see pickle.h). Opcode semantics follow CPython's Lib/pickle.py
// (_Unpickler.load_*) and the opcode table in Lib/pickletools.py; anything not listed is refused.
#include "weights/pickle.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "common/error.h"

namespace bertc {

std::string_view pickle_kind_name(PickleKind kind) {
  switch (kind) {
    case PickleKind::kNone: return "None";
    case PickleKind::kBool: return "bool";
    case PickleKind::kInt: return "int";
    case PickleKind::kFloat: return "float";
    case PickleKind::kString: return "str";
    case PickleKind::kBytes: return "bytes";
    case PickleKind::kTuple: return "tuple";
    case PickleKind::kList: return "list";
    case PickleKind::kDict: return "dict";
    case PickleKind::kGlobal: return "global";
    case PickleKind::kCall: return "call";
    case PickleKind::kPersistentId: return "persistent id";
  }
  return "?";
}

namespace {

// Printable form of an opcode byte for messages: 0x69 ('i').
std::string opcode_name(uint8_t op) {
  static const char kHex[] = "0123456789abcdef";
  std::string s = "0x";
  s += kHex[op >> 4];
  s += kHex[op & 15];
  if (op >= 0x20 && op < 0x7f) s += str_cat(" ('", static_cast<char>(op), "')");
  return s;
}

class Unpickler {
 public:
  Unpickler(std::string_view bytes, const std::vector<AllowedGlobal>& allowed,
            const std::string& where, std::deque<PickleValue>& arena)
      : bytes_(bytes), allowed_(allowed), where_(where), arena_(arena) {}

  const PickleValue* run();
  size_t offset() const { return pos_; }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    BERTC_FAIL(where_, ": ", problem, " at offset ", op_offset_);
  }

  const uint8_t* take(size_t n) {
    if (n > bytes_.size() - pos_) fail(str_cat("truncated pickle: opcode needs ", n, " more bytes, ",
                                               bytes_.size() - pos_, " left"));
    const uint8_t* p = reinterpret_cast<const uint8_t*>(bytes_.data()) + pos_;
    pos_ += n;
    return p;
  }
  uint64_t take_le(size_t n) {
    const uint8_t* p = take(n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return v;
  }
  std::string take_text(uint64_t n) {
    if (n > bytes_.size() - pos_) {
      fail(str_cat("string of ", n, " bytes runs past the end of the pickle (", bytes_.size() - pos_,
                   " bytes left)"));
    }
    const char* p = reinterpret_cast<const char*>(take(static_cast<size_t>(n)));
    return std::string(p, static_cast<size_t>(n));
  }
  std::string take_line() {  // GLOBAL's operands: text up to '\n'
    size_t end = bytes_.find('\n', pos_);
    if (end == std::string_view::npos) fail("truncated pickle: GLOBAL name has no end of line");
    std::string s(bytes_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  PickleValue* make(PickleKind kind) {
    if (arena_.size() >= kPickleMaxObjects) fail(str_cat("more than ", kPickleMaxObjects, " objects"));
    PickleValue& v = arena_.emplace_back();
    v.kind = kind;
    return &v;
  }
  void adopt(PickleValue* container, PickleValue* item) {
    container->items.push_back(item);
    container->depth = std::max(container->depth, item->depth + 1);
    if (container->depth > kPickleMaxDepth) fail(str_cat("nesting deeper than ", kPickleMaxDepth));
  }

  PickleValue* pop() {
    if (stack_.size() <= frame_start()) fail("stack underflow (pickle is malformed)");
    PickleValue* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  PickleValue* top() {
    if (stack_.size() <= frame_start()) fail("stack underflow (pickle is malformed)");
    return stack_.back();
  }
  void push(PickleValue* v) { stack_.push_back(v); }
  size_t frame_start() const { return marks_.empty() ? 0 : marks_.back(); }
  // Everything above the latest MARK, which is removed.
  std::vector<PickleValue*> pop_mark() {
    if (marks_.empty()) fail("opcode needs a MARK but there is none");
    size_t start = marks_.back();
    marks_.pop_back();
    std::vector<PickleValue*> items(stack_.begin() + static_cast<std::ptrdiff_t>(start), stack_.end());
    stack_.resize(start);
    return items;
  }

  void memo_put(uint64_t index, PickleValue* v) {
    // A pickler memoizes each object once, so more entries than objects means a hostile file.
    if (memo_.size() >= kPickleMaxObjects) fail(str_cat("memo holds more than ", kPickleMaxObjects, " entries"));
    memo_[index] = v;
  }
  PickleValue* memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail(str_cat("memo entry ", index, " is read before it is written"));
    return it->second;
  }

  PickleValue* make_int(int64_t v) {
    PickleValue* p = make(PickleKind::kInt);
    p->integer = v;
    return p;
  }
  PickleValue* make_tuple(const std::vector<PickleValue*>& items) {
    PickleValue* t = make(PickleKind::kTuple);
    for (PickleValue* item : items) adopt(t, item);
    return t;
  }
  PickleValue* make_global(const std::string& module, const std::string& name);
  void reduce();
  void set_items(PickleValue* dict, const std::vector<PickleValue*>& kv);
  void append_items(PickleValue* list, const std::vector<PickleValue*>& items);

  std::string_view bytes_;
  const std::vector<AllowedGlobal>& allowed_;
  const std::string& where_;
  std::deque<PickleValue>& arena_;
  size_t pos_ = 0;
  size_t op_offset_ = 0;
  std::vector<PickleValue*> stack_;
  std::vector<size_t> marks_;  // stack sizes at each MARK
  std::unordered_map<uint64_t, PickleValue*> memo_;
};

PickleValue* Unpickler::make_global(const std::string& module, const std::string& name) {
  std::string full = module + "." + name;
  bool ok = std::any_of(allowed_.begin(), allowed_.end(),
                        [&](const AllowedGlobal& g) { return g.name == full; });
  if (!ok) {
    fail(str_cat("forbidden global '", full, "' (only the globals a state dict needs are allowed; "
                 "nothing in the file is executed)"));
  }
  PickleValue* g = make(PickleKind::kGlobal);
  g->text = std::move(full);
  return g;
}

void Unpickler::reduce() {
  PickleValue* args = pop();
  PickleValue* callable = pop();
  if (callable->kind != PickleKind::kGlobal) {
    fail(str_cat("REDUCE calls a ", pickle_kind_name(callable->kind), ", not an allowed global"));
  }
  auto it = std::find_if(allowed_.begin(), allowed_.end(),
                         [&](const AllowedGlobal& g) { return g.name == callable->text; });
  if (it == allowed_.end() || it->use != GlobalUse::kCall) {
    fail(str_cat("REDUCE calls '", callable->text, "', which is allowed only as a value, not as a call"));
  }
  if (args->kind != PickleKind::kTuple) {
    fail(str_cat("REDUCE of '", callable->text, "' has ", pickle_kind_name(args->kind),
                 " arguments, expected a tuple"));
  }
  if (callable->text == "collections.OrderedDict") {
    if (!args->items.empty()) fail("collections.OrderedDict is called with arguments; expected none");
    push(make(PickleKind::kDict));
    return;
  }
  if (callable->text == "torch.Size") {
    if (args->items.size() != 1 || args->items[0]->kind != PickleKind::kTuple) {
      fail("torch.Size is called with something other than one tuple");
    }
    push(args->items[0]);
    return;
  }
  PickleValue* call = make(PickleKind::kCall);
  adopt(call, callable);
  adopt(call, args);
  push(call);
}

void Unpickler::set_items(PickleValue* dict, const std::vector<PickleValue*>& kv) {
  if (dict->kind != PickleKind::kDict) {
    fail(str_cat("SETITEM(S) on a ", pickle_kind_name(dict->kind), ", expected a dict"));
  }
  if (kv.size() % 2 != 0) fail("SETITEMS with an odd number of keys and values");
  for (PickleValue* item : kv) adopt(dict, item);
}

void Unpickler::append_items(PickleValue* list, const std::vector<PickleValue*>& items) {
  if (list->kind != PickleKind::kList) {
    fail(str_cat("APPEND(S) on a ", pickle_kind_name(list->kind), ", expected a list"));
  }
  for (PickleValue* item : items) adopt(list, item);
}

const PickleValue* Unpickler::run() {
  while (true) {
    op_offset_ = pos_;
    if (pos_ >= bytes_.size()) fail("truncated pickle: no STOP opcode");
    uint8_t op = *take(1);
    switch (op) {
      case 0x80: {  // PROTO
        uint8_t proto = *take(1);
        if (proto < 2 || proto > 5) fail(str_cat("pickle protocol ", int{proto}, " is not supported (2-5 are)"));
        break;
      }
      case 0x95:  // FRAME: a length hint for buffered readers; the whole pickle is in memory
        take(8);
        break;
      case '.': {  // STOP
        if (!marks_.empty()) fail("STOP inside an unclosed MARK");
        if (stack_.size() != 1) fail(str_cat("STOP with ", stack_.size(), " values on the stack, expected 1"));
        return stack_.back();
      }
      case '(':  // MARK
        if (marks_.size() >= kPickleMaxDepth) fail(str_cat("MARKs nested deeper than ", kPickleMaxDepth));
        marks_.push_back(stack_.size());
        break;
      case 'N': push(make(PickleKind::kNone)); break;
      case 0x88: case 0x89: {  // NEWTRUE, NEWFALSE
        PickleValue* b = make(PickleKind::kBool);
        b->boolean = op == 0x88;
        push(b);
        break;
      }
      case 'J': push(make_int(static_cast<int32_t>(take_le(4)))); break;  // BININT
      case 'K': push(make_int(static_cast<int64_t>(take_le(1)))); break;  // BININT1
      case 'M': push(make_int(static_cast<int64_t>(take_le(2)))); break;  // BININT2
      case 0x8a: {  // LONG1: n-byte little-endian two's complement
        uint8_t n = *take(1);
        if (n > 8) fail(str_cat("LONG1 integer of ", int{n}, " bytes does not fit in 64 bits"));
        uint64_t v = take_le(n);
        if (n > 0 && n < 8 && (v >> (8 * n - 1)) != 0) v |= ~uint64_t{0} << (8 * n);  // sign-extend
        push(make_int(static_cast<int64_t>(v)));
        break;
      }
      case 'G': {  // BINFLOAT: big-endian IEEE double
        const uint8_t* p = take(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];
        PickleValue* f = make(PickleKind::kFloat);
        std::memcpy(&f->real, &bits, 8);
        push(f);
        break;
      }
      case 'X': case 0x8c: case 0x8d:  // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
      case 'B': case 'C': case 0x8e: {  // BINBYTES, SHORT_BINBYTES, BINBYTES8
        size_t len_bytes = (op == 0x8c || op == 'C') ? 1 : (op == 0x8d || op == 0x8e) ? 8 : 4;
        uint64_t n = take_le(len_bytes);
        bool is_bytes = op == 'B' || op == 'C' || op == 0x8e;
        PickleValue* s = make(is_bytes ? PickleKind::kBytes : PickleKind::kString);
        s->text = take_text(n);
        push(s);
        break;
      }
      case ')': push(make(PickleKind::kTuple)); break;  // EMPTY_TUPLE
      case 't': push(make_tuple(pop_mark())); break;     // TUPLE
      case 0x85: case 0x86: case 0x87: {                 // TUPLE1, TUPLE2, TUPLE3
        size_t n = static_cast<size_t>(op - 0x84);
        std::vector<PickleValue*> items(n);
        for (size_t i = n; i-- > 0;) items[i] = pop();
        push(make_tuple(items));
        break;
      }
      case ']': push(make(PickleKind::kList)); break;  // EMPTY_LIST
      case 'a': {                                      // APPEND
        PickleValue* item = pop();
        append_items(top(), {item});
        break;
      }
      case 'e': {  // APPENDS
        std::vector<PickleValue*> items = pop_mark();
        append_items(top(), items);
        break;
      }
      case '}': push(make(PickleKind::kDict)); break;  // EMPTY_DICT
      case 's': {                                      // SETITEM
        PickleValue* value = pop();
        PickleValue* key = pop();
        set_items(top(), {key, value});
        break;
      }
      case 'u': {  // SETITEMS
        std::vector<PickleValue*> kv = pop_mark();
        set_items(top(), kv);
        break;
      }
      case 'q': memo_put(take_le(1), top()); break;      // BINPUT
      case 'r': memo_put(take_le(4), top()); break;      // LONG_BINPUT
      case 0x94: memo_put(memo_.size(), top()); break;   // MEMOIZE
      case 'h': push(memo_get(take_le(1))); break;       // BINGET
      case 'j': push(memo_get(take_le(4))); break;       // LONG_BINGET
      case 'c': {                                        // GLOBAL "module\nname\n"
        std::string module = take_line();
        std::string name = take_line();
        push(make_global(module, name));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        PickleValue* name = pop();
        PickleValue* module = pop();
        if (module->kind != PickleKind::kString || name->kind != PickleKind::kString) {
          fail("STACK_GLOBAL operands are not strings");
        }
        push(make_global(module->text, name->text));
        break;
      }
      case 'R': reduce(); break;
      case 'b': {  // BUILD: only an OrderedDict's attribute state (torch's _metadata); dropped
        pop();  // the state
        PickleValue* target = top();
        if (target->kind != PickleKind::kDict) {
          fail(str_cat("BUILD on a ", pickle_kind_name(target->kind), " (only a dict's state is accepted)"));
        }
        break;
      }
      case 'Q': {  // BINPERSID
        PickleValue* id = make(PickleKind::kPersistentId);
        adopt(id, pop());
        push(id);
        break;
      }
      default:
        fail(str_cat("opcode ", opcode_name(op),
                     " is not supported (this reader accepts only what a state dict needs)"));
    }
  }
}

}  // namespace

Unpickled unpickle(std::string_view bytes, const std::vector<AllowedGlobal>& allowed,
                   const std::string& where) {
  Unpickled out;
  Unpickler reader(bytes, allowed, where, out.arena_);
  out.root_ = reader.run();
  out.end_offset_ = reader.offset();
  return out;
}

}  // namespace bertc
