// The allow-list unpickler (weights/pickle.h) on hand-written opcodes: values it builds, and the
// one-line errors for forbidden globals, unknown opcodes, truncation, memo abuse and deep nesting.
#include "weights/pickle.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "tests/weights/torch_bin_builder.h"

namespace bertc {
namespace {

using testing::PickleBuilder;

const std::vector<AllowedGlobal> kAllowed = {
    {"collections.OrderedDict", GlobalUse::kCall},
    {"torch.Size", GlobalUse::kCall},
    {"torch._utils._rebuild_tensor_v2", GlobalUse::kCall},
    {"torch.FloatStorage", GlobalUse::kValue},
};

// Runs unpickle expecting an error; returns its message after checking it is one line naming
// where the pickle came from.
std::string unpickle_error(const std::string& bytes) {
  try {
    unpickle(bytes, kAllowed, "m.bin: archive/data.pkl");
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_EQ(msg.rfind("m.bin: archive/data.pkl: ", 0), 0u) << msg;
    return msg;
  }
  ADD_FAILURE() << "unpickle accepted a bad pickle";
  return "";
}

TEST(Pickle, BuildsScalarsStringsAndContainers) {
  std::string bytes = PickleBuilder()
                          .proto()
                          .mark()
                          .op('N')
                          .boolean(true)
                          .integer(-5)
                          .op('K').op(200)                                      // BININT1
                          .op('M').op(0x34).op(0x12)                            // BININT2
                          .op(0x8a).op(2).op(0x00).op(0x80)                     // LONG1 -32768
                          .op(0x8a).op(5).op(0).op(0).op(0).op(0).op(1)         // LONG1 2^32
                          .str("héllo")
                          .op(0x8c).op(2).op('a').op('b')                       // SHORT_BINUNICODE
                          .op('C').op(1).op(0xff)                               // SHORT_BINBYTES
                          .op('G').op(0x3f).op(0xf8).op(0).op(0).op(0).op(0).op(0).op(0)  // 1.5
                          .tuple()
                          .stop()
                          .bytes();
  Unpickled u = unpickle(bytes, kAllowed, "t");
  const PickleValue& t = u.root();
  ASSERT_EQ(t.kind, PickleKind::kTuple);
  ASSERT_EQ(t.items.size(), 11u);
  EXPECT_EQ(t.items[0]->kind, PickleKind::kNone);
  EXPECT_TRUE(t.items[1]->boolean);
  EXPECT_EQ(t.items[2]->integer, -5);
  EXPECT_EQ(t.items[3]->integer, 200);
  EXPECT_EQ(t.items[4]->integer, 0x1234);
  EXPECT_EQ(t.items[5]->integer, -32768);
  EXPECT_EQ(t.items[6]->integer, int64_t{1} << 32);
  EXPECT_EQ(t.items[7]->text, "héllo");
  EXPECT_EQ(t.items[8]->text, "ab");
  EXPECT_EQ(t.items[9]->kind, PickleKind::kBytes);
  EXPECT_EQ(t.items[9]->text, "\xff");
  EXPECT_EQ(t.items[10]->real, 1.5);
}

TEST(Pickle, OrderedDictKeepsInsertionOrderAndMemoSharesObjects) {
  // {'b': (1,), 'a': <same tuple>} with the tuple memoized and fetched again, as torch ties weights.
  // Then BUILD with {'_metadata': {}}, the state torch attaches to a state dict: dropped.
  std::string bytes = PickleBuilder()
                          .proto()
                          .ordered_dict()
                          .mark()
                          .str("b").integer(1).op(0x85).put(7)
                          .str("a").get(7)
                          .setitems()
                          .empty_dict().str("_metadata").empty_dict().op('s').op('b')
                          .stop()
                          .bytes();
  Unpickled u = unpickle(bytes, kAllowed, "t");
  const PickleValue& d = u.root();
  ASSERT_EQ(d.kind, PickleKind::kDict);
  ASSERT_EQ(d.items.size(), 4u);
  EXPECT_EQ(d.items[0]->text, "b");
  EXPECT_EQ(d.items[2]->text, "a");
  EXPECT_EQ(d.items[1], d.items[3]);  // one object, two keys
}

TEST(Pickle, ReduceIsRecordedNotRun) {
  std::string bytes = PickleBuilder()
                          .proto()
                          .global("torch._utils", "_rebuild_tensor_v2")
                          .mark().integer(3).tuple()
                          .reduce()
                          .stop()
                          .bytes();
  Unpickled u = unpickle(bytes, kAllowed, "t");
  ASSERT_EQ(u.root().kind, PickleKind::kCall);
  EXPECT_EQ(u.root().items[0]->text, "torch._utils._rebuild_tensor_v2");
  EXPECT_EQ(u.root().items[1]->items[0]->integer, 3);
}

TEST(Pickle, TorchSizeIsItsTuple) {
  std::string bytes =
      PickleBuilder().proto().global("torch", "Size").mark().ints({2, 3}).tuple().reduce().stop().bytes();
  Unpickled u = unpickle(bytes, kAllowed, "t");
  ASSERT_EQ(u.root().kind, PickleKind::kTuple);
  EXPECT_EQ(u.root().items[1]->integer, 3);
}

TEST(Pickle, StackGlobalIsCheckedLikeGlobal) {
  std::string ok = PickleBuilder().proto(4).str("collections").str("OrderedDict").op(0x93).stop().bytes();
  EXPECT_EQ(unpickle(ok, kAllowed, "t").root().text, "collections.OrderedDict");
  std::string bad = PickleBuilder().proto(4).str("os").str("system").op(0x93).stop().bytes();
  EXPECT_NE(unpickle_error(bad).find("forbidden global 'os.system'"), std::string::npos);
}

TEST(Pickle, ForbiddenGlobalsAreNamed) {
  for (auto [module, name] : std::vector<std::pair<std::string, std::string>>{
           {"os", "system"}, {"builtins", "eval"}, {"subprocess", "Popen"}, {"posix", "system"},
           {"__builtin__", "eval"}, {"torch", "load"}}) {
    std::string bytes = PickleBuilder()
                            .proto()
                            .global(module, name)
                            .mark().str("echo pwned").tuple()
                            .reduce()
                            .stop()
                            .bytes();
    std::string msg = unpickle_error(bytes);
    EXPECT_NE(msg.find("forbidden global '" + module + "." + name + "'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("at offset 2"), std::string::npos) << msg;
  }
}

TEST(Pickle, UnknownOpcodesAreRefused) {
  // INST (code by class name), OBJ, NEWOBJ, EXT1, text PERSID, and a byte no protocol defines.
  for (uint8_t code : {uint8_t{'i'}, uint8_t{'o'}, uint8_t{0x81}, uint8_t{0x82}, uint8_t{'P'}, uint8_t{0xff}}) {
    std::string msg = unpickle_error(PickleBuilder().proto().op(code).stop().bytes());
    EXPECT_NE(msg.find("opcode 0x"), std::string::npos) << msg;
    EXPECT_NE(msg.find("is not supported"), std::string::npos) << msg;
  }
  EXPECT_NE(unpickle_error(PickleBuilder().proto().op('i').bytes()).find("opcode 0x69 ('i')"),
            std::string::npos);
}

TEST(Pickle, ReduceOnANonAllowedCallableIsRefused) {
  // A storage type is allowed as a value only.
  std::string storage_call =
      PickleBuilder().proto().global("torch", "FloatStorage").empty_tuple().reduce().stop().bytes();
  EXPECT_NE(unpickle_error(storage_call).find("REDUCE calls 'torch.FloatStorage', which is allowed only as a value"),
            std::string::npos);
  // Calling a string (or anything that is not a global) is refused too.
  std::string str_call = PickleBuilder().proto().str("os.system").empty_tuple().reduce().stop().bytes();
  EXPECT_NE(unpickle_error(str_call).find("REDUCE calls a str, not an allowed global"), std::string::npos);
}

TEST(Pickle, TruncationIsReportedAtEveryCut) {
  std::string full = PickleBuilder()
                         .proto()
                         .ordered_dict()
                         .mark().str("w").global("torch", "FloatStorage").str("n").integer(7).setitems()
                         .stop()
                         .bytes();
  unpickle(full, kAllowed, "t");  // the whole pickle is fine
  for (size_t n = 0; n < full.size(); ++n) {
    std::string msg = unpickle_error(full.substr(0, n));
    EXPECT_FALSE(msg.empty()) << "cut at " << n;
  }
  EXPECT_NE(unpickle_error(full.substr(0, full.size() - 1)).find("truncated pickle: no STOP opcode"),
            std::string::npos);
  EXPECT_NE(unpickle_error(PickleBuilder().proto().op('X').op(0xff).op(0xff).op(0xff).op(0x7f).bytes())
                .find("string of 2147483647 bytes runs past the end"),
            std::string::npos);
}

TEST(Pickle, DeepNestingIsRefused) {
  PickleBuilder tuples;
  tuples.proto().op('N');
  for (uint32_t i = 0; i < kPickleMaxDepth + 5; ++i) tuples.op(0x85);  // TUPLE1 of TUPLE1 of ...
  EXPECT_NE(unpickle_error(tuples.stop().bytes()).find("nesting deeper than"), std::string::npos);

  PickleBuilder marks;
  marks.proto();
  for (uint32_t i = 0; i < 100000; ++i) marks.mark();
  EXPECT_NE(unpickle_error(marks.bytes()).find("MARKs nested deeper than"), std::string::npos);
}

TEST(Pickle, ObjectCountIsBounded) {
  // One byte per object (NONE): a 1 MiB pickle must not become an unbounded tree.
  std::string bytes = PickleBuilder().proto().bytes() + std::string(kPickleMaxObjects + 1, 'N');
  EXPECT_NE(unpickle_error(bytes).find(str_cat("more than ", kPickleMaxObjects, " objects")), std::string::npos);
}

TEST(Pickle, MemoAbuseIsRefused) {
  EXPECT_NE(unpickle_error(PickleBuilder().proto().get(3).stop().bytes())
                .find("memo entry 3 is read before it is written"),
            std::string::npos);
  EXPECT_NE(unpickle_error(PickleBuilder().proto().put(0).bytes()).find("stack underflow"), std::string::npos);
}

TEST(Pickle, SelfReferenceDoesNotLoopOrLeak) {
  // l = []; l.append(l): a cycle built with the memo; the arena frees it (checked under ASan).
  std::string bytes = PickleBuilder().proto().op(']').put(0).get(0).op('a').stop().bytes();
  Unpickled u = unpickle(bytes, kAllowed, "t");
  EXPECT_EQ(u.root().items[0], &u.root());
}

TEST(Pickle, MalformedStackUseIsRefused) {
  EXPECT_NE(unpickle_error(PickleBuilder().proto().integer(1).integer(2).stop().bytes())
                .find("STOP with 2 values on the stack"),
            std::string::npos);
  EXPECT_NE(unpickle_error(PickleBuilder().proto().integer(1).integer(2).op('s').stop().bytes())
                .find("stack underflow"),
            std::string::npos);
  EXPECT_NE(unpickle_error(PickleBuilder().proto().integer(1).str("k").integer(2).op('s').stop().bytes())
                .find("SETITEM(S) on a int, expected a dict"),
            std::string::npos);
  EXPECT_NE(unpickle_error(PickleBuilder().proto().empty_tuple().empty_dict().op('b').stop().bytes())
                .find("BUILD on a tuple"),
            std::string::npos);
  EXPECT_NE(unpickle_error(PickleBuilder().proto(1).stop().bytes()).find("pickle protocol 1 is not supported"),
            std::string::npos);
}

}  // namespace
}  // namespace bertc
