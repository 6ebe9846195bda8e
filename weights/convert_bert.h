// Hugging Face BERT folder -> .bertc: reads the folder (weights/hf_folder.h), the checkpoint
// (safetensors or torch .bin), maps names (weights/bert_names.h), checks them against the config
// and writes through ModelWriter. On any error nothing is left at `out_path`.
#pragma once

#include <functional>
#include <string>

#include "common/dtype.h"

namespace bertc {

struct ConvertOptions {
  DType dtype = DType::kF32;  // weight dtype in the output: f32, f16 or bf16
  std::function<void(const std::string&)> note;  // one-line notes (ignored tensors); may be empty
};

void convert_bert_folder(const std::string& dir, const std::string& out_path,
                         const ConvertOptions& options);

// Converts `n` values from `from` to `to` (f32, f16, bf16): exact when widening or equal, IEEE
// round-to-nearest-even when narrowing (common/dtype.h). `src` needs no alignment.
void convert_floats(const void* src, DType from, void* dst, DType to, size_t n);

}  // namespace bertc
