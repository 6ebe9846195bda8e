// CLI11 glue and the flags shared by every command (tools/args.h).
#include "tools/args.h"

#include <unistd.h>

#include <charconv>
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
  } catch (const CLI::ConversionError& e) {
    // CLI11 says "Could not convert: --max-length = abc"; say what was expected instead.
    const std::string what = e.what();
    const size_t colon = what.find(": "), eq = what.find(" = ");
    if (colon != std::string::npos && eq != std::string::npos && eq > colon) {
      const std::string name = what.substr(colon + 2, eq - colon - 2), value = what.substr(eq + 3);
      std::string type;
      try {
        type = app.get_option(name)->get_type_name();
      } catch (const CLI::Error&) {
      }
      const char* expected = type == "INT" || type == "UINT" ? "an integer"
                             : type == "FLOAT"                ? "a number"
                                                              : "a valid value";
      throw UsageError(str_cat(name, ": '", value, "' is not ", expected));
    }
    throw UsageError(what);
  } catch (const CLI::ParseError& e) {
    throw UsageError(e.what());
  }
  return true;
}

CLI::Validator integer_in(long long lo, long long hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        long long v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc() || end != s.data() + s.size() || s.empty())
          return str_cat("'", s, "' is not an integer");
        if (v < lo || v > hi) return str_cat(v, " is not in ", lo, "..", hi);
        return "";
      },
      str_cat("INT in ", lo, "..", hi));
}

CLI::Validator nonblank_list(const std::string& choices) {
  return CLI::Validator(
      [choices](std::string& s) -> std::string {
        return s.find_first_not_of(", ") == std::string::npos ? "no mode given (" + choices + ")" : "";
      },
      "LIST");
}

void add_device_flags(CLI::App& app, DeviceChoice& d, bool with_tf32) {
  app.add_option("--device", d.device, "cpu | cuda | auto")->group("Device")->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  app.add_option("--dtype", d.dtype,
                 "run precision: f32 | bf16 (CPU: bf16 dense layers) | f16 (CUDA only)")
      ->group("Device")->capture_default_str()->check(CLI::IsMember({"f32", "f16", "bf16"}));
  if (with_tf32)
    app.add_flag("--allow-tf32", d.allow_tf32, "CUDA f32: let GEMMs use TF32 tensor cores (~1e-3 error)")
        ->group("Device");
  app.add_option("--threads", d.threads, "CPU threads (0: all cores)")
      ->group("Device")->capture_default_str()->check(integer_in(0, 4096));
}

void add_mode_flags(CLI::App& app, ModeOptions& o) {
  app.add_option("-m,--model", o.model_path,
                 "BERT .bertc model for the BERT modes (default: $BERTC_MODEL or the installed "
                 "all-MiniLM-L6-v2)")
      ->group("Model");
  app.add_option("--w2v", o.w2v_path, "word-vector .bertc file for the w2v mode (bertc convert VECTORS)")
      ->group("Model");
  app.add_option("--pool", o.modes, kModesHelp)->group("Model")
      ->check(nonblank_list("auto, pooled, mean, cls, max, w2v"));
  add_device_flags(app, o.device, /*with_tf32=*/false);
  app.add_flag("-q,--quiet", o.quiet, "no progress, notes or out-of-vocabulary reports")->group("Output");
}

InputOptions InputFlags::options() const {
  InputOptions o;
  o.format = parse_input_format(format);
  o.replace_invalid_utf8 = utf8_errors == "replace";
  return o;
}

void add_input_flags(CLI::App& app, InputFlags& flags) {
  app.add_option("--input-format", flags.format,
                 "auto: JSON lines for a FILE.jsonl, else one text per line; text; jsonl")
      ->group("Input")->capture_default_str()->check(CLI::IsMember({"auto", "text", "jsonl"}));
  app.add_option("--utf8-errors", flags.utf8_errors,
                 "invalid UTF-8: 'error' stops naming the line and byte, 'replace' turns each bad "
                 "sequence into U+FFFD")
      ->group("Input")->capture_default_str()->check(CLI::IsMember({"error", "replace"}));
}

void add_deprecated_alias(CLI::App& app, const std::string& old_name, const std::string& new_name,
                          std::string& target) {
  const std::string command = app.get_name();
  app.add_option_function<std::string>(
         old_name,
         [&target, old_name, new_name, command](const std::string& value) {
           std::fprintf(stderr, "%s: note: %s is deprecated, use %s (same values)\n",
                        command.c_str(), old_name.c_str(), new_name.c_str());
           target = value;
         },
         "deprecated spelling of " + new_name)
      ->group("");  // hidden from --help
}

void hint_reading_stdin(const std::string& command, const std::string& what) {
  if (!::isatty(STDIN_FILENO)) return;
  std::fprintf(stderr, "%s: reading %s from stdin, one per line (end with Ctrl-D)\n",
               command.c_str(), what.c_str());
}

}  // namespace bertc
