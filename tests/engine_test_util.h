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
#include <utility>
#include <vector>

#include "engine/bert.h"
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

// A 9-token sequence encoded alone and inside a batch of three (3, 9 and 40 tokens): {alone, its
// rows from the batch}, as host floats, for the batch-invariance checks of each backend/dtype.
inline std::pair<std::vector<float>, std::vector<float>> alone_and_in_batch(BertModel& model) {
  const int64_t h = model.config().hidden_size;
  const std::vector<int32_t> ids = {101, 2002, 2003, 3564, 2379, 1996, 2314, 2924, 102};
  PackedBatch batch, alone;
  batch.add({101, 1996, 102}, {});
  batch.add(ids, {});
  batch.add(std::vector<int32_t>(40, 2924), {});
  alone.add(ids, {});
  std::vector<float> in_batch, single;
  model.to_host(model.encode(batch, model.num_layers()), in_batch);
  model.to_host(model.encode(alone, model.num_layers()), single);
  return {single, std::vector<float>(in_batch.begin() + batch.cu_seqlens[1] * h,
                                     in_batch.begin() + batch.cu_seqlens[2] * h)};
}

// Runs `bertc ARGS` (ARGS already shell-quoted) with optional stdin text.
inline test::CliResult run_bertc(const std::string& args, const std::string& stdin_text = "") {
  static int counter = 0;
  const std::string in = (scratch_dir() / ("stdin" + std::to_string(counter++))).string();
  std::ofstream(in, std::ios::binary) << stdin_text;
  return test::run_bertc_args(args, in);
}

}  // namespace bertc::testing
