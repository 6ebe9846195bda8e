// safetensors reader (https://github.com/huggingface/safetensors, "Format"): u64 header length N,
// N bytes of JSON {name: {dtype, shape, data_offsets}}, then the data section. Every rule of the
// format is enforced before a view is handed out; tests/weights/safetensors_test.cc builds hostile
// files byte by byte and tests/fuzz/safetensors_fuzz.cc fuzzes parse_safetensors.
#include "weights/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/utf8.h"

namespace bertc {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxHeaderNbytes = 100'000'000;  // the limit of the reference implementation
constexpr size_t kMaxRank = 8;

struct SourceDType {
  const char* name;
  uint64_t nbytes;
  bool supported;
  DType dtype;
};

// Every dtype the format defines, so sizes are checked even for tensors bertc will not use.
constexpr SourceDType kDTypes[] = {
    {"F32", 4, true, DType::kF32},   {"F16", 2, true, DType::kF16},   {"BF16", 2, true, DType::kBF16},
    {"I64", 8, true, DType::kI64},   {"I32", 4, true, DType::kI32},   {"U8", 1, true, DType::kU8},
    {"U32", 4, true, DType::kU32},   {"U64", 8, true, DType::kU64},   {"F64", 8, false, DType::kF32},
    {"I16", 2, false, DType::kF32},  {"U16", 2, false, DType::kF32},  {"I8", 1, false, DType::kF32},
    {"BOOL", 1, false, DType::kF32}, {"F8_E4M3", 1, false, DType::kF32},
    {"F8_E5M2", 1, false, DType::kF32},
};

// Parses JSON and rejects a key repeated within one object (nlohmann would keep the last one
// silently, so a crafted header could show one tensor to a checker and another to a loader).
json parse_json_no_duplicates(const char* begin, const char* end, const std::string& file,
                              const char* what) {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  auto cb = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (event == json::parse_event_t::key && !open_objects.empty()) {
      if (!open_objects.back().insert(parsed.get<std::string>()).second && duplicate.empty())
        duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json j;
  try {
    j = json::parse(begin, end, cb);
  } catch (const json::exception& e) {
    BERTC_FAIL(file, ": ", what, " is not valid JSON (", e.what(), ")");
  }
  BERTC_CHECK(duplicate.empty(), file, ": ", what, " has the key '", duplicate, "' twice");
  return j;
}

uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& file, const std::string& name) {
  BERTC_CHECK(b == 0 || a <= UINT64_MAX / b, file, ": tensor '", name, "' size overflows");
  return a * b;
}

struct Entry {
  CheckpointTensor tensor;
  uint64_t begin = 0, end = 0;
};

Entry parse_entry(const std::string& name, const json& v, const std::string& file) {
  BERTC_CHECK(v.is_object(), file, ": tensor '", name, "' entry is not a JSON object");
  for (const auto& [key, value] : v.items()) {
    BERTC_CHECK(key == "dtype" || key == "shape" || key == "data_offsets", file, ": tensor '",
                name, "' has an unknown field '", key, "'");
  }
  BERTC_CHECK(v.contains("dtype") && v["dtype"].is_string(), file, ": tensor '", name,
              "' has no dtype string");
  std::string dt = v["dtype"].get<std::string>();
  const SourceDType* sd = nullptr;
  for (const SourceDType& d : kDTypes)
    if (dt == d.name) sd = &d;
  BERTC_CHECK(sd, file, ": tensor '", name, "' has unknown dtype '", dt, "'");
  BERTC_CHECK(sd->supported, file, ": tensor '", name, "' has dtype ", dt,
              ", which bertc does not read (F32, F16, BF16, I64, I32, U8, U32, U64)");

  BERTC_CHECK(v.contains("shape") && v["shape"].is_array(), file, ": tensor '", name,
              "' has no shape array");
  const json& shape = v["shape"];
  BERTC_CHECK(shape.size() <= kMaxRank, file, ": tensor '", name, "' has rank ", shape.size(),
              " (at most ", kMaxRank, ")");
  Entry e;
  e.tensor.name = name;
  e.tensor.dtype = sd->dtype;
  uint64_t numel = 1;
  for (const json& d : shape) {
    BERTC_CHECK(d.is_number_unsigned(), file, ": tensor '", name,
                "' has a shape entry that is not a non-negative integer: ", d.dump());
    uint64_t u = d.get<uint64_t>();
    BERTC_CHECK(u <= static_cast<uint64_t>(INT64_MAX), file, ": tensor '", name,
                "' has an absurd dimension ", u);
    numel = checked_mul(numel, u, file, name);
    e.tensor.shape.push_back(static_cast<int64_t>(u));
  }
  uint64_t nbytes = checked_mul(numel, sd->nbytes, file, name);

  BERTC_CHECK(v.contains("data_offsets") && v["data_offsets"].is_array() &&
                  v["data_offsets"].size() == 2 && v["data_offsets"][0].is_number_unsigned() &&
                  v["data_offsets"][1].is_number_unsigned(),
              file, ": tensor '", name, "' needs data_offsets [begin, end] of non-negative integers");
  e.begin = v["data_offsets"][0].get<uint64_t>();
  e.end = v["data_offsets"][1].get<uint64_t>();
  BERTC_CHECK(e.begin <= e.end, file, ": tensor '", name, "' has data_offsets [", e.begin, ", ",
              e.end, "] that end before they begin");
  BERTC_CHECK(e.end - e.begin == nbytes, file, ": tensor '", name, "' has ", e.end - e.begin,
              " bytes of data but its shape and dtype (", dt, ") need ", nbytes);
  e.tensor.nbytes = nbytes;
  return e;
}

std::shared_ptr<const void> map_file(const std::string& path, size_t* nbytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  BERTC_CHECK(fd >= 0, path, ": cannot open: ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    BERTC_FAIL(path, ": not a regular file");
  }
  *nbytes = static_cast<size_t>(st.st_size);
  if (*nbytes == 0) {
    ::close(fd);
    return std::shared_ptr<const void>(nullptr, [](const void*) {});
  }
  void* addr = ::mmap(nullptr, *nbytes, PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  ::close(fd);
  BERTC_CHECK(addr != MAP_FAILED, path, ": mmap failed: ", std::strerror(err));
  size_t n = *nbytes;
  return std::shared_ptr<const void>(addr, [n](const void* p) { ::munmap(const_cast<void*>(p), n); });
}

Checkpoint read_sharded(const std::string& index_path) {
  std::ifstream in(index_path, std::ios::binary);
  BERTC_CHECK(in, index_path, ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  json index = parse_json_no_duplicates(text.data(), text.data() + text.size(), index_path,
                                        "the shard index");
  BERTC_CHECK(index.is_object() && index.contains("weight_map") && index["weight_map"].is_object(),
              index_path, ": no \"weight_map\" object");
  std::map<std::string, std::string> owner;  // tensor -> shard file
  std::set<std::string> shards;
  for (const auto& [name, shard] : index["weight_map"].items()) {
    BERTC_CHECK(shard.is_string(), index_path, ": weight_map['", name, "'] is not a file name");
    std::string f = shard.get<std::string>();
    // Shards are siblings of the index: a path could point anywhere on the machine.
    BERTC_CHECK(!f.empty() && f.find('/') == std::string::npos && f != "." && f != "..",
                index_path, ": shard name '", f, "' is not a plain file name");
    owner[name] = f;
    shards.insert(f);
  }
  BERTC_CHECK(!shards.empty(), index_path, ": weight_map is empty");
  std::filesystem::path dir = std::filesystem::path(index_path).parent_path();
  Checkpoint all;
  std::set<std::string> seen;
  for (const std::string& shard : shards) {
    std::string shard_path = (dir / shard).string();
    Checkpoint part = read_safetensors(shard_path);
    for (CheckpointTensor& t : part.tensors) {
      auto it = owner.find(t.name);
      BERTC_CHECK(it != owner.end(), shard_path, ": tensor '", t.name,
                  "' is not listed in the shard index");
      BERTC_CHECK(it->second == shard, shard_path, ": tensor '", t.name,
                  "' is listed in the shard index under ", it->second);
      BERTC_CHECK(seen.insert(t.name).second, shard_path, ": tensor '", t.name,
                  "' appears in two shards");
      all.tensors.push_back(std::move(t));
    }
    for (auto& k : part.keep_alive) all.keep_alive.push_back(std::move(k));
  }
  for (const auto& [name, shard] : owner) {
    BERTC_CHECK(seen.count(name), index_path, ": tensor '", name, "' is missing from ", shard);
  }
  return all;
}

}  // namespace

Checkpoint parse_safetensors(const unsigned char* data, size_t nbytes, const std::string& file) {
  BERTC_CHECK(nbytes >= 8, file, ": file is ", nbytes,
              " bytes, too small for a safetensors header length");
  // `git clone` of a Hugging Face repo without git-lfs leaves ~130-byte pointer files.
  constexpr std::string_view kLfsPointer = "version https://git-lfs";
  BERTC_CHECK(std::string_view(reinterpret_cast<const char*>(data), std::min(nbytes, kLfsPointer.size())) !=
                  kLfsPointer,
              file, ": is a Git LFS pointer, not the weights; run `git lfs install && git lfs pull` ",
              "in the model folder (or download with huggingface-cli)");
  uint64_t header_nbytes;
  std::memcpy(&header_nbytes, data, 8);
  BERTC_CHECK(header_nbytes <= kMaxHeaderNbytes, file, ": header length ", header_nbytes,
              " exceeds the safetensors limit of ", kMaxHeaderNbytes, " bytes");
  BERTC_CHECK(header_nbytes <= nbytes - 8, file, ": header length ", header_nbytes,
              " runs past the end of the file (", nbytes, " bytes)");
  const char* header = reinterpret_cast<const char*>(data + 8);
  BERTC_CHECK(header_nbytes >= 2 && header[0] == '{', file,
              ": header does not start with '{' (not a safetensors file?)");
  BERTC_CHECK(!find_invalid_utf8(std::string_view(header, header_nbytes)), file,
              ": header is not valid UTF-8");
  json j = parse_json_no_duplicates(header, header + header_nbytes, file, "header");
  BERTC_CHECK(j.is_object(), file, ": header is not a JSON object");

  const uint64_t data_nbytes = nbytes - 8 - header_nbytes;
  const unsigned char* data_start = data + 8 + header_nbytes;
  std::vector<Entry> entries;
  for (const auto& [name, v] : j.items()) {
    if (name == "__metadata__") {
      BERTC_CHECK(v.is_object(), file, ": __metadata__ is not a JSON object");
      for (const auto& [k, mv] : v.items()) {
        BERTC_CHECK(mv.is_string(), file, ": __metadata__['", k, "'] is not a string");
      }
      continue;
    }
    BERTC_CHECK(!name.empty(), file, ": a tensor has an empty name");
    entries.push_back(parse_entry(name, v, file));
  }
  // The data section is covered exactly: sorted by offset, each tensor starts where the previous
  // one ends (no holes, no overlaps, no aliasing), and the last one ends at the end of the file.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected_begin = 0;
  for (const Entry& e : entries) {
    BERTC_CHECK(e.begin == expected_begin, file, ": tensor '", e.tensor.name, "' data_offsets [",
                e.begin, ", ", e.end, "] ", e.begin < expected_begin ? "overlap" : "leave a hole after",
                " the previous tensor (which ends at ", expected_begin, ")");
    expected_begin = e.end;
  }
  BERTC_CHECK(expected_begin == data_nbytes, file, ": tensors cover ", expected_begin,
              " bytes but the data section has ", data_nbytes,
              expected_begin < data_nbytes ? " (trailing bytes)" : " (file truncated)");

  Checkpoint ck;
  ck.tensors.reserve(entries.size());
  for (Entry& e : entries) {
    e.tensor.data = data_start + e.begin;
    ck.tensors.push_back(std::move(e.tensor));
  }
  return ck;
}

Checkpoint read_safetensors(const std::string& path) {
  if (path.size() >= 11 && path.compare(path.size() - 11, 11, ".index.json") == 0)
    return read_sharded(path);
  size_t nbytes = 0;
  std::shared_ptr<const void> map = map_file(path, &nbytes);
  Checkpoint ck = parse_safetensors(static_cast<const unsigned char*>(map.get()), nbytes, path);
  ck.keep_alive.push_back(std::move(map));
  return ck;
}

}  // namespace bertc
