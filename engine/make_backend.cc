// Backend selection: the one #ifdef BERTC_WITH_CUDA in bertc. The CUDA side of the #ifdef takes
// make_cuda_backend() and cuda_device_count() from engine/cuda_backend.h; the CPU-only side
// defines stand-ins that refuse, so the code below has no #ifdef.
#include "engine/make_backend.h"

#include <atomic>
#include <cstdio>
#include <string>

#include "engine/cpu_backend.h"
#include "common/error.h"

#ifdef BERTC_WITH_CUDA
#include "engine/cuda_backend.h"  // make_cuda_backend, cuda_device_count (never throws)
namespace bertc {
namespace {
constexpr bool kCudaBuilt = true;
}  // namespace
}  // namespace bertc
#else
namespace bertc {
namespace {
constexpr bool kCudaBuilt = false;
std::unique_ptr<Backend> make_cuda_backend(const BackendOptions&) {
  BERTC_FAIL("bertc was built without CUDA support (reconfigure with -DBERTC_CUDA=ON)");
}
int cuda_device_count(std::string* why = nullptr) {
  if (why) *why = "bertc was built without CUDA support";
  return 0;
}
}  // namespace
}  // namespace bertc
#endif

namespace bertc {

bool cuda_built() { return kCudaBuilt; }

bool cuda_device_available() { return kCudaBuilt && cuda_device_count() > 0; }

Device resolve_device(std::string_view name) {
  if (name == "cpu") return Device::kCpu;
  if (name == "cuda") {
    BERTC_CHECK(kCudaBuilt, "--device cuda: bertc was built without CUDA support (reconfigure with "
                "-DBERTC_CUDA=ON)");
    std::string why;  // the CUDA runtime's reason, e.g. "CUDA driver version is insufficient"
    BERTC_CHECK(cuda_device_count(&why) > 0, "--device cuda: no CUDA device found (", why,
                "); use --device cpu or --device auto");
    return Device::kCuda;
  }
  if (name == "auto") {
    if (cuda_device_available()) return Device::kCuda;
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true))
      std::fprintf(stderr, "bertc: warning: %s; using the CPU\n",
                   kCudaBuilt ? "no CUDA device found" : "built without CUDA support");
    return Device::kCpu;
  }
  throw UsageError("--device: unknown device '" + std::string(name) +
                   "' (expected cpu, cuda or auto)");
}

std::unique_ptr<Backend> make_backend(const BackendOptions& options) {
  if (options.device == Device::kCuda) return make_cuda_backend(options);
  return std::make_unique<CpuBackend>(options);
}

}  // namespace bertc
