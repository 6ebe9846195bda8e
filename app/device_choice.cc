// DeviceChoice -> BackendOptions (app/device_choice.h).
#include "app/device_choice.h"

#include "common/error.h"
#include "engine/make_backend.h"

namespace bertc {

BackendOptions DeviceChoice::backend_options() const {
  BackendOptions bo;
  bo.device = resolve_device(device);
  BERTC_CHECK(dtype == "f32" || dtype == "f16" || dtype == "bf16", "unknown dtype '", dtype,
              "' (f32, f16, bf16)");
  bo.dtype = dtype == "f16" ? DType::kF16 : dtype == "bf16" ? DType::kBF16 : DType::kF32;
  bo.allow_tf32 = allow_tf32;
  bo.threads = threads;
  return bo;
}

}  // namespace bertc
