// Shared by the engine and CLI tests: fixture models converted once per test binary into a temp
// folder (through the library converter), and a runner for the built bertc binary.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "test_util.h"
#include "weights/convert_bert.h"
#include "weights/model_file.h"

namespace bertc::testing {

inline std::filesystem::path scratch_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("bertc_engine_test_" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline std::string fixture_model_dir(const std::string& name) {
  return std::string(BERTC_TEST_DATA) + "/models/" + name + "/model";
}

inline std::string minilm_dir() { return std::string(BERTC_MODELS_DIR) + "/all-MiniLM-L6-v2"; }

// The .bertc of an HF folder, converted once per process.
inline std::string converted_path(const std::string& hf_dir, const std::string& stem) {
  static std::map<std::string, std::string> done;
  auto it = done.find(hf_dir);
  if (it != done.end()) return it->second;
  const std::string out = (scratch_dir() / (stem + ".bertc")).string();
  convert_bert_folder(hf_dir, out, ConvertOptions{});
  return done[hf_dir] = out;
}

inline std::shared_ptr<const ModelFile> converted(const std::string& hf_dir, const std::string& stem) {
  return ModelFile::open(converted_path(hf_dir, stem));
}

using test::read_file;

// Runs `bertc ARGS` (ARGS already shell-quoted) with optional stdin text.
inline test::CliResult run_bertc(const std::string& args, const std::string& stdin_text = "") {
  static int counter = 0;
  const std::string in = (scratch_dir() / ("stdin" + std::to_string(counter++))).string();
  std::ofstream(in, std::ios::binary) << stdin_text;
  return test::run_bertc_args(args, in);
}

}  // namespace bertc::testing
