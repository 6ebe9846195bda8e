// Small string helpers shared by option parsers and error messages.
#pragma once

#include <algorithm>
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

}  // namespace bertc
