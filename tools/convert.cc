// bertc convert INPUT -o OUT.bertc: a Hugging Face folder (BERT) or a word2vec file -> .bertc.
// The input kind is decided by one test (directory or not); output appears only when complete.
#include <cstdio>
#include <filesystem>
#include <map>

#include "common/error.h"
#include "common/output_file.h"
#include "tools/args.h"
#include "weights/convert_bert.h"
#include "weights/word2vec.h"

namespace bertc {

int run_convert(const Args& args) {
  CLI::App app{"Convert a Hugging Face BERT folder (or a word2vec file) to one .bertc file",
               "bertc convert"};
  std::string input, output, dtype_name = "f32";
  bool quiet = false;
  Word2VecConvertOptions w2v;
  app.add_option("INPUT", input,
                 "Hugging Face model folder (config.json, vocab.txt, weights), or a word2vec "
                 "binary/text file (told apart by content)")
      ->required()->group("Input");
  app.add_option("-o,--output", output, "output .bertc path (a temp file renamed over it when complete)")
      ->required()->group("Output");
  app.add_option("--dtype", dtype_name, "weight dtype in the output")
      ->check(CLI::IsMember({"f32", "f16", "bf16"}))->capture_default_str()->group("Output");
  app.add_option("--limit", w2v.limit, "keep only the first N words (0: all)")
      ->check(CLI::NonNegativeNumber)->capture_default_str()->group("word2vec");
  app.add_flag("--normalize", w2v.normalize, "store L2-normalised vectors")->group("word2vec");
  app.add_flag("--allow-nonfinite", w2v.allow_nonfinite, "keep NaN/Inf values instead of failing")
      ->group("word2vec");
  app.add_flag("-q,--quiet", quiet, "no notes on stderr")->group("General");
  if (!parse_args(app, args)) return 0;
  OutputFile::check(output);  // a bad -o fails now, not after reading gigabytes

  static const std::map<std::string, DType> kDTypes = {
      {"f32", DType::kF32}, {"f16", DType::kF16}, {"bf16", DType::kBF16}};
  if (std::filesystem::is_directory(input)) {
    ConvertOptions options;
    options.dtype = kDTypes.at(dtype_name);
    if (!quiet) options.note = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
    convert_bert_folder(input, output, options);
  } else {
    BERTC_CHECK(std::filesystem::exists(input), input, ": no such file or directory");
    BERTC_CHECK(dtype_name != "bf16", input, ": word2vec vectors are stored as f32 or f16, not bf16");
    w2v.dtype = kDTypes.at(dtype_name);
    w2v.quiet = quiet;
    convert_word2vec(input, output, w2v);
  }
  if (!quiet) std::fprintf(stderr, "wrote %s\n", output.c_str());
  return 0;
}

}  // namespace bertc
