// Test helpers that build torch.save-style inputs by hand: pickle opcodes (PickleBuilder), a
// state-dict pickle of fake tensors, and zips written with libzip. Used by pickle_test.cc and
// torch_bin_test.cc for both well-formed and hostile inputs.
#pragma once

#include <gtest/gtest.h>
#include <zip.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace bertc::testing {

// Appends pickle opcodes; every method returns *this so a pickle reads as one expression.
class PickleBuilder {
 public:
  PickleBuilder& op(uint8_t code) { bytes_ += static_cast<char>(code); return *this; }
  PickleBuilder& proto(uint8_t version = 2) { return op(0x80).op(version); }
  PickleBuilder& global(const std::string& module, const std::string& name) {
    bytes_ += "c" + module + "\n" + name + "\n";
    return *this;
  }
  PickleBuilder& mark() { return op('('); }
  PickleBuilder& tuple() { return op('t'); }
  PickleBuilder& empty_tuple() { return op(')'); }
  PickleBuilder& empty_dict() { return op('}'); }
  PickleBuilder& reduce() { return op('R'); }
  PickleBuilder& setitems() { return op('u'); }
  PickleBuilder& persid() { return op('Q'); }
  PickleBuilder& stop() { return op('.'); }
  PickleBuilder& boolean(bool b) { return op(b ? 0x88 : 0x89); }
  PickleBuilder& put(uint8_t index) { return op('q').op(index); }
  PickleBuilder& get(uint8_t index) { return op('h').op(index); }
  PickleBuilder& str(const std::string& s) {
    op('X');
    le(s.size(), 4);
    bytes_ += s;
    return *this;
  }
  PickleBuilder& integer(int32_t v) {
    op('J');
    le(static_cast<uint32_t>(v), 4);
    return *this;
  }
  PickleBuilder& ints(const std::vector<int64_t>& values) {  // a tuple of ints
    mark();
    for (int64_t v : values) integer(static_cast<int32_t>(v));
    return tuple();
  }
  PickleBuilder& ordered_dict() { return global("collections", "OrderedDict").empty_tuple().reduce(); }
  const std::string& bytes() const { return bytes_; }

 private:
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes_ += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  std::string bytes_;
};

struct FakeTensor {
  std::string name;
  std::string storage_type = "FloatStorage";
  std::string key;
  int64_t storage_numel = 0;
  int64_t offset = 0;
  std::vector<int64_t> shape;
  std::vector<int64_t> stride;
  bool parameter = false;  // wrapped in torch._utils._rebuild_parameter, as nn.Parameter pickles
};

// Appends the opcodes torch.save emits for one tensor (protocol 2, no memo).
inline void append_tensor(PickleBuilder& p, const FakeTensor& t) {
  if (t.parameter) p.global("torch._utils", "_rebuild_parameter").mark();
  p.global("torch._utils", "_rebuild_tensor_v2").mark();
  p.mark().str("storage").global("torch", t.storage_type).str(t.key).str("cpu").integer(
      static_cast<int32_t>(t.storage_numel));
  p.tuple().persid();
  p.integer(static_cast<int32_t>(t.offset)).ints(t.shape).ints(t.stride).boolean(false).ordered_dict();
  p.tuple().reduce();
  if (t.parameter) p.boolean(true).ordered_dict().tuple().reduce();
}

inline std::string state_dict_pickle(const std::vector<FakeTensor>& tensors) {
  PickleBuilder p;
  p.proto().ordered_dict().mark();
  for (const FakeTensor& t : tensors) {
    p.str(t.name);
    append_tensor(p, t);
  }
  return p.setitems().stop().bytes();
}

// Raw little-endian bytes of floats, for storage entries.
inline std::string float_bytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

struct ZipEntry {
  std::string name;
  std::string data;
};

// Writes entries with libzip, deflated or stored (torch.save stores; users may re-zip).
inline void write_zip(const std::string& path, const std::vector<ZipEntry>& entries, bool deflate = false) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  ASSERT_NE(z, nullptr) << "zip_open " << path << " failed: " << err;
  for (const ZipEntry& e : entries) {
    zip_source_t* src = zip_source_buffer(z, e.data.data(), e.data.size(), 0);
    ASSERT_NE(src, nullptr);
    zip_int64_t index = zip_file_add(z, e.name.c_str(), src, ZIP_FL_ENC_UTF_8);
    ASSERT_GE(index, 0) << zip_strerror(z);
    zip_set_file_compression(z, static_cast<zip_uint64_t>(index), deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  ASSERT_EQ(zip_close(z), 0) << zip_strerror(z);  // the buffers above must live until here
}

// A fresh per-test directory under the system temp dir.
inline std::filesystem::path test_dir() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              (std::string("bertc_") + info->test_suite_name() + "_" + info->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace bertc::testing
