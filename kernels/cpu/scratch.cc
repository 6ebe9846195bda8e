// Per-thread scratch (kernels/cpu/scratch.h).
#include "kernels/cpu/scratch.h"

#include <cstdlib>

#include "common/error.h"

namespace bertc::cpu {
namespace {

struct Buffers {
  void* data[static_cast<int>(ScratchSlot::kCount)] = {};
  size_t nbytes[static_cast<int>(ScratchSlot::kCount)] = {};
  ~Buffers() {
    for (void* p : data) std::free(p);
  }
};

}  // namespace

void* thread_scratch(ScratchSlot slot, size_t nbytes) {
  thread_local Buffers buffers;
  const int i = static_cast<int>(slot);
  if (buffers.nbytes[i] < nbytes || !buffers.data[i]) {
    std::free(buffers.data[i]);
    const size_t size = (nbytes + 63) / 64 * 64 + 64;
    buffers.data[i] = std::aligned_alloc(64, size);
    BERTC_CHECK(buffers.data[i] != nullptr, "cpu kernels: out of memory allocating ", nbytes,
                " bytes of scratch");
    buffers.nbytes[i] = size;
  }
  return buffers.data[i];
}

}  // namespace bertc::cpu
