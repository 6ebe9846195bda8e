// CLI11 glue shared by every command (tools/args.h).
#include "tools/args.h"

#include <cstdio>

#include "common/error.h"

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

void add_device_flags(CLI::App& app, DeviceChoice& d, bool with_tf32, const std::string& dtype_flag) {
  app.add_option("--device", d.device, "cpu | cuda | auto")->group("Device")->capture_default_str();
  app.add_option(dtype_flag, d.dtype,
                 "run precision: f32 | bf16 (CPU: bf16 dense layers) | f16 (CUDA only)")
      ->group("Device")->capture_default_str()->check(CLI::IsMember({"f32", "f16", "bf16"}));
  if (with_tf32)
    app.add_flag("--allow-tf32", d.allow_tf32, "CUDA f32: let GEMMs use TF32 tensor cores (~1e-3 error)")
        ->group("Device");
  app.add_option("--threads", d.threads, "CPU threads (0: all cores)")
      ->group("Device")->capture_default_str()->check(CLI::Range(0, 4096));
}

void add_mode_flags(CLI::App& app, ModeOptions& o, const std::string& modes_flag,
                    const std::string& dtype_flag) {
  app.add_option("-m,--model", o.model_path,
                 "BERT .bertc model for the pooled/mean/cls modes (default: $BERTC_MODEL or the "
                 "installed all-MiniLM-L6-v2)")
      ->group("Model");
  app.add_option("--w2v", o.w2v_path, "word2vec .bertc file for the w2v mode (bertc convert VECTORS)")
      ->group("Model");
  app.add_option(modes_flag, o.modes,
                 "comma-separated modes: pooled, mean, cls, max (BERT) and w2v (default: w2v when "
                 "only --w2v is given, else pooled,mean plus w2v with --w2v)")
      ->group("Model");
  add_device_flags(app, o.device, /*with_tf32=*/false, dtype_flag);
  app.add_flag("-q,--quiet", o.quiet, "no progress, notes or out-of-vocabulary reports")->group("Output");
}

}  // namespace bertc
