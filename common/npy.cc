// .npy reading and writing; the header grammar follows numpy/lib/format.py (a Python dict literal
// with 'descr', 'fortran_order' and 'shape'), parsed strictly for the few forms numpy writes.
#include "common/npy.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "common/output_file.h"
#include "common/error.h"

namespace bertc {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

// The text after `'key':` in the header dict, or throws.
size_t find_value(const std::string& header, const std::string& key, const std::string& name) {
  const std::string k = "'" + key + "'";
  size_t at = header.find(k);
  BERTC_CHECK(at != std::string::npos, name, ": .npy header has no ", k, " entry");
  at = header.find(':', at + k.size());
  BERTC_CHECK(at != std::string::npos, name, ": .npy header entry ", k, " has no value");
  at = header.find_first_not_of(' ', at + 1);
  BERTC_CHECK(at != std::string::npos, name, ": .npy header entry ", k, " has no value");
  return at;
}

}  // namespace

NpyArray parse_npy(const std::string& bytes, const std::string& name) {
  BERTC_CHECK(bytes.size() >= kMagicLen + 4 && std::memcmp(bytes.data(), kMagic, kMagicLen) == 0,
              name, ": not a .npy file (bad magic)");
  const auto major = static_cast<uint8_t>(bytes[6]);
  BERTC_CHECK(major == 1 || major == 2 || major == 3, name, ": .npy format version ", int{major},
              " is not supported (1, 2 or 3)");
  size_t header_len = 0, header_at = 0;
  auto byte = [&](size_t i) { return static_cast<size_t>(static_cast<uint8_t>(bytes[i])); };
  if (major == 1) {
    header_len = byte(8) | byte(9) << 8;
    header_at = 10;
  } else {
    BERTC_CHECK(bytes.size() >= 12, name, ": truncated .npy header");
    header_len = byte(8) | byte(9) << 8 | byte(10) << 16 | byte(11) << 24;
    header_at = 12;
  }
  BERTC_CHECK(header_len <= bytes.size() - header_at, name, ": truncated .npy header (",
              header_len, " bytes declared, ", bytes.size() - header_at, " present)");
  const std::string header = bytes.substr(header_at, header_len);

  size_t at = find_value(header, "descr", name);
  const std::string descr = header.substr(at, 5);
  const bool f4 = descr == "'<f4'", f8 = descr == "'<f8'";
  BERTC_CHECK(f4 || f8, name, ": .npy dtype ", header.substr(at, header.find(',', at) - at),
              " is not supported (little-endian float32 '<f4' or float64 '<f8')");
  at = find_value(header, "fortran_order", name);
  BERTC_CHECK(header.compare(at, 5, "False") == 0, name,
              ": .npy array is in Fortran order; only C order is supported");

  NpyArray a;
  at = find_value(header, "shape", name);
  BERTC_CHECK(header[at] == '(', name, ": .npy shape is not a tuple");
  const size_t close = header.find(')', at);
  BERTC_CHECK(close != std::string::npos, name, ": .npy shape tuple is not closed");
  std::string dims = header.substr(at + 1, close - at - 1);
  uint64_t count = 1;
  std::istringstream in(dims);
  for (std::string tok; std::getline(in, tok, ',');) {
    size_t b = tok.find_first_not_of(' '), e = tok.find_last_not_of(' ');
    if (b == std::string::npos) continue;  // the trailing comma of a 1-tuple
    tok = tok.substr(b, e - b + 1);
    BERTC_CHECK(tok.find_first_not_of("0123456789") == std::string::npos && tok.size() <= 12,
                name, ": .npy shape entry '", tok, "' is not a dimension");
    const int64_t d = std::stoll(tok);
    a.shape.push_back(d);
    count *= static_cast<uint64_t>(d);
    BERTC_CHECK(count <= (uint64_t{1} << 40), name, ": .npy shape ", dims, " is absurdly large");
  }

  const size_t esz = f4 ? 4 : 8;
  const size_t data_at = header_at + header_len;
  BERTC_CHECK(bytes.size() - data_at == count * esz, name, ": .npy data has ",
              bytes.size() - data_at, " bytes, expected ", count * esz, " for shape (", dims, ")");
  a.data.resize(count);
  const char* p = bytes.data() + data_at;
  if (f4) {
    std::memcpy(a.data.data(), p, count * 4);
  } else {
    for (size_t i = 0; i < count; ++i) {
      double d;
      std::memcpy(&d, p + 8 * i, 8);
      a.data[i] = static_cast<float>(d);
    }
  }
  return a;
}

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  BERTC_CHECK(in, path, ": cannot open");
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_npy(buf.str(), path);
}

std::string npy_bytes(const float* data, const std::vector<int64_t>& shape) {
  std::string dims;
  int64_t count = 1;
  for (int64_t d : shape) {
    dims += std::to_string(d) + ", ";
    count *= d;
  }
  if (shape.size() > 1) dims.resize(dims.size() - 2);  // a 1-tuple keeps its comma: (5,)
  if (shape.size() == 1) dims.resize(dims.size() - 1);
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Pad with spaces and end with '\n' so the data starts 64-byte aligned (numpy does the same).
  const size_t unpadded = kMagicLen + 4 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string out(kMagic, kMagicLen);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(count) * 4);
  return out;
}

void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape) {
  const std::string bytes = npy_bytes(data, shape);
  OutputFile file(path);
  file.write(bytes.data(), bytes.size());
  file.commit();
}

}  // namespace bertc
