// bertc::Error and BERTC_CHECK: the one way library code reports a failure.
// Library code throws and never exits, so the CLI can clean up temp files and print one line.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace bertc {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Thrown for bad command-line usage; the CLI exits 2 instead of 1.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& what) : Error(what) {}
};

template <typename... Args>
std::string str_cat(Args&&... args) {
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  return out.str();
}

}  // namespace bertc

#ifdef NDEBUG
#define BERTC_ERROR_CONTEXT ""
#else
#define BERTC_ERROR_CONTEXT " [" __FILE__ ":" BERTC_STRINGIFY_(__LINE__) "]"
#endif
#define BERTC_STRINGIFY_(x) BERTC_STRINGIFY2_(x)
#define BERTC_STRINGIFY2_(x) #x

// BERTC_CHECK(cond, parts...): throws bertc::Error(str_cat(parts...)) when cond is false.
// The message names the thing and the problem: "model.bertc: tensor 'x' has shape [..], expected [..]".
#define BERTC_CHECK(cond, ...)                                                  \
  do {                                                                          \
    if (!(cond)) throw ::bertc::Error(::bertc::str_cat(__VA_ARGS__) + BERTC_ERROR_CONTEXT); \
  } while (0)

#define BERTC_FAIL(...) throw ::bertc::Error(::bertc::str_cat(__VA_ARGS__) + BERTC_ERROR_CONTEXT)
