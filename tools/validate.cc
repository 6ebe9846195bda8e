// bertc validate: runs a reference bundle's token ids through the model and prints, per output,
// the max abs / rel difference and the worst cosine over real positions; exit 1 when any output
// is outside its tolerance.
#include <cstdio>
#include <memory>
#include <string>

#include "engine/bert.h"
#include "common/error.h"
#include "engine/make_backend.h"
#include "app/reference.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "weights/model_file.h"
#include "app/model_path.h"

namespace bertc {

int run_validate(const Args& args) {
  CLI::App app{"Compare bertc's outputs with a reference bundle (tools/make_reference.py)",
               "bertc validate"};
  std::string model_path = default_model_path(), reference;
  ValidateOptions opt;
  DeviceChoice device;
  app.add_option("-m,--model", model_path, "the .bertc model")->group("Model")->capture_default_str();
  app.add_option("--reference", reference, "bundle folder: inputs.json + .npy outputs")
      ->required()->group("Reference");
  app.add_option("--atol", opt.atol_hidden, "max abs difference allowed on hidden states")
      ->group("Tolerance")->capture_default_str();
  app.add_option("--atol-pooled", opt.atol_pooled,
                 "max abs difference on pooler_output, cls, mean_pooled, st_embedding")
      ->group("Tolerance")->capture_default_str();
  app.add_option("--min-cosine", opt.min_cosine, "smallest cosine allowed per row")
      ->group("Tolerance")->capture_default_str();
  add_device_flags(app, device, /*with_tf32=*/false);
  if (!parse_args(app, args)) return 0;

  const ReferenceBundle bundle = load_reference(reference);
  auto file = open_bert_model(model_path);
  BackendOptions bo = device.backend_options();
  int64_t total = 0;
  for (const auto& row : bundle.input_ids) total += static_cast<int64_t>(row.size());
  bo.max_tokens = std::max<int64_t>(8192, total);
  bo.max_seqs = static_cast<int64_t>(bundle.input_ids.size());
  BertModel model(WeightSource::from_file(file), make_backend(bo), bo.max_tokens);

  const auto diffs = validate_reference(model, bundle, file->pooling_config(), opt);
  std::printf("%-20s %8s %12s %12s %12s %10s  %s\n", "output", "rows", "max_abs", "max_rel",
              "min_cosine", "atol", "result");
  bool all_ok = true;
  for (const OutputDiff& d : diffs) {
    std::printf("%-20s %8lld %12.3e %12.3e %12.9f %10.1e  %s\n", d.name.c_str(),
                static_cast<long long>(d.rows), d.max_abs, d.max_rel, d.min_cosine, d.atol,
                d.ok() ? "ok" : "FAIL");
    all_ok = all_ok && d.ok();
  }
  std::fprintf(stderr, "bertc validate: %s: %zu outputs %s\n", reference.c_str(), diffs.size(),
               all_ok ? "within tolerance" : "OUT OF TOLERANCE");
  return all_ok ? 0 : 1;
}

}  // namespace bertc
