// default_model_path (app/model_path.h).
#include "app/model_path.h"

#include <cstdlib>
#include <filesystem>

namespace bertc {

std::string default_model_path() {
  if (const char* env = std::getenv("BERTC_MODEL"); env && *env) return env;
  const char* xdg = std::getenv("XDG_DATA_HOME");
  const char* home = std::getenv("HOME");
  const std::filesystem::path base = xdg && *xdg     ? std::filesystem::path(xdg)
                                     : home && *home ? std::filesystem::path(home) / ".local/share"
                                                     : std::filesystem::path(".");
  return (base / "bertc" / "default.bertc").string();
}

}  // namespace bertc
