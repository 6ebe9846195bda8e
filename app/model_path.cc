// default_model_path and open_bert_model (app/model_path.h).
#include "app/model_path.h"

#include <cstdlib>
#include <filesystem>

#include "common/error.h"
#include "weights/model_file.h"

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

std::shared_ptr<const ModelFile> open_bert_model(const std::string& path) {
  auto file = ModelFile::open(path);
  BERTC_CHECK(file->kind() == ModelKind::kBert, path,
              ": is a word-vector file, not a BERT model; give it with --w2v (similarity, search, "
              "index build), and a BERT model with -m");
  return file;
}

}  // namespace bertc
