// libFuzzer target for the pytorch_model.bin reader. The first input byte picks the layer: even
// feeds the rest to the state-dict unpickler as data.pkl bytes, odd reads the rest as a whole file
// (a zip through libzip from memory, or a legacy stream). Only bertc::Error may come out; crashes,
// leaks and UB are findings.
// Seeds: tests/fuzz/corpus/torch_bin (tools/torch_bin_seeds.py); run with tools/fuzz.sh 60 torch_bin.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/error.h"
#include "weights/torch_bin.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t* body = data + 1;
  size_t body_size = size - 1;
  try {
    if (data[0] % 2 == 0) {
      bertc::read_torch_state_dict(std::string_view(reinterpret_cast<const char*>(body), body_size), "fuzz");
    } else {
      bertc::read_torch_bin_buffer(body, body_size, "fuzz");
    }
  } catch (const bertc::Error&) {
    // A clear refusal is the expected outcome for almost every input.
  }
  return 0;
}
