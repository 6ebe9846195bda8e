// CLI11 glue shared by every command (tools/args.h).
#include "tools/args.h"

#include <cstdio>

#include "engine/error.h"
#include "engine/make_backend.h"

namespace bertc {

bool parse_args(CLI::App& app, const Args& args) {
  std::vector<std::string> rev(args.rbegin(), args.rend());  // CLI11 consumes from the back
  try {
    app.parse(rev);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return false;
  } catch (const CLI::ParseError& e) {
    throw UsageError(e.what());
  }
  return true;
}

void DeviceFlags::add_to(CLI::App& app, bool with_tf32, const std::string& dtype_flag) {
  app.add_option("--device", device, "cpu | cuda | auto")->group("Device")->capture_default_str();
  app.add_option(dtype_flag, dtype,
                 "run precision: f32 | bf16 (CPU: bf16 dense layers) | f16 (CUDA only)")
      ->group("Device")->capture_default_str()->check(CLI::IsMember({"f32", "f16", "bf16"}));
  if (with_tf32)
    app.add_flag("--allow-tf32", allow_tf32, "CUDA f32: let GEMMs use TF32 tensor cores (~1e-3 error)")
        ->group("Device");
  app.add_option("--threads", threads, "CPU threads (0: all cores)")
      ->group("Device")->capture_default_str()->check(CLI::Range(0, 4096));
}

BackendOptions DeviceFlags::backend_options() const {
  BackendOptions bo;
  bo.device = resolve_device(device);
  bo.dtype = dtype == "f16" ? DType::kF16 : dtype == "bf16" ? DType::kBF16 : DType::kF32;
  bo.allow_tf32 = allow_tf32;
  bo.threads = threads;
  return bo;
}

}  // namespace bertc
