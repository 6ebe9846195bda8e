// The CUDA backend: the Backend ops on one device and one stream, hand-written kernels from
// kernels/cuda around cuBLAS GEMMs. Defined in engine/cuda_backend.cc in CUDA builds; in a
// CPU-only build make_backend.cc defines both functions (no device; "built without CUDA").
#pragma once

#include <memory>
#include <string>

#include "engine/backend.h"

namespace bertc {

// Number of CUDA devices; 0 when there is none or no driver (never throws, never aborts). When
// none is found and `why` is non-null it receives the runtime's reason.
int cuda_device_count(std::string* why = nullptr);

// options.dtype is the run precision (f32 | f16 | bf16); options.max_tokens / max_seqs size the
// batch workspace. Throws "no CUDA device found (...)" when there is no device.
std::unique_ptr<Backend> make_cuda_backend(const BackendOptions& options);

}  // namespace bertc
