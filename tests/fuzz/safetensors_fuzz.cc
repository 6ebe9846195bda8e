// libFuzzer target for the safetensors reader: the input is a whole file, parsed from memory.
// Only bertc::Error may come out; crashes, leaks, UB and any other exception are findings.
// Seeds: tools/fuzz.sh writes small valid files and the tiny-st header (see the script).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "common/error.h"
#include "weights/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    bertc::Checkpoint ck = bertc::parse_safetensors(data, size, "fuzz.safetensors");
    // Touch every view so an out-of-range one is caught by ASan here, not by a later converter.
    volatile unsigned char sink = 0;
    for (const bertc::CheckpointTensor& t : ck.tensors) {
      const auto* p = static_cast<const unsigned char*>(t.data);
      if (t.nbytes) sink = sink ^ p[0] ^ p[t.nbytes - 1];
    }
  } catch (const bertc::Error&) {
    // A clear refusal is the expected outcome for almost every input.
  }
  return 0;
}
