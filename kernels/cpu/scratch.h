// Per-thread scratch memory for the cpu kernels: each (thread, slot) buffer grows to the largest
// size asked once and is kept, so the forward pass stops allocating after its first batch. Defined
// in a baseline file so that per-ISA files need no std::vector, whose out-of-line code compiled
// with their flags could be shared with baseline code (the ODR trap, kernels/cpu/isa_ns.h).
#pragma once

#include <cstddef>

namespace bertc::cpu {

// The kernels' slots; one kernel's buffers that are alive at the same time use different ones.
// kCaller: a buffer the calling thread fills for its whole team to read (x rounded to bf16);
// kTaskA..C: a task's own buffers, on whichever thread of the team runs it (the caller included).
enum class ScratchSlot { kCaller, kTaskA, kTaskB, kTaskC, kCount };

// At least nbytes, 64-byte aligned, of the calling thread's buffer `slot`. Its contents are left
// from the previous use; a larger request may move it.
void* thread_scratch(ScratchSlot slot, size_t nbytes);

}  // namespace bertc::cpu
