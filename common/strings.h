// Small string helpers shared by option parsers, error messages and JSON outputs.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bertc {

// "a,b,,c" -> {"a", "b", "", "c"}; "" -> {""}. Empty items are kept so callers reject them by name.
inline std::vector<std::string> split_list(std::string_view spec, char sep = ',') {
  std::vector<std::string> out;
  for (size_t start = 0;;) {
    const size_t end = std::min(spec.find(sep, start), spec.size());
    out.emplace_back(spec.substr(start, end - start));
    if (end == spec.size()) return out;
    start = end + 1;
  }
}

// {768, 3072} -> "[768, 3072]", as shapes appear in error messages and `bertc inspect`.
inline std::string shape_str(const std::vector<int64_t>& dims) {
  std::string out = "[";
  for (size_t i = 0; i < dims.size(); ++i) out += (i ? ", " : "") + std::to_string(dims[i]);
  return out + "]";
}

// Appends the shortest decimal that reads back as exactly `v` (nan/inf as JSON null): the form
// every JSON output of embeddings uses (`bertc embed`, `bertc serve`).
inline void append_float(std::string& out, float v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace bertc
