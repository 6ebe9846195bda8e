// Output formats and the embedding writers (see tools/output.h).
#include "tools/output.h"

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/npy.h"
#include "common/strings.h"

namespace bertc {
namespace {

std::string ext_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash) || dot == 0 ||
      (slash != std::string::npos && dot == slash + 1))
    return "";  // no dot in the last component, or a dot file such as ".out"
  return path.substr(dot);
}

void write_jsonl(OutputFile& out, const std::vector<NamedMatrix>& mats, int64_t rows, int64_t dim) {
  std::string line;
  for (int64_t r = 0; r < rows; ++r) {
    const auto row_index = static_cast<size_t>(r);
    line = "{\"index\": " + std::to_string(r);
    auto append_row = [&](const float* row) {
      line += "[";
      for (int64_t h = 0; h < dim; ++h) {
        if (h) line += ", ";
        append_float(line, row[h]);
      }
      line += "]";
    };
    for (const NamedMatrix& m : mats) {
      if (m.token_ids) line += ", \"ids\": " + nlohmann::json((*m.token_ids)[row_index]).dump();
      if (m.wordpieces)
        line += ", \"wordpieces\": " +
                nlohmann::json((*m.wordpieces)[row_index])
                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      line += ", \"" + m.name + "\": ";
      if (m.ragged) {
        const std::vector<float>& states = (*m.ragged)[row_index];
        line += "[";
        for (size_t t = 0; t < states.size(); t += static_cast<size_t>(dim)) {
          if (t) line += ", ";
          append_row(states.data() + t);
        }
        line += "]";
      } else {
        append_row(m.data->data() + r * dim);
      }
    }
    line += "}\n";
    out.write(line.data(), line.size());
  }
}

void write_tsv(OutputFile& out, const std::vector<float>& mat, int64_t rows, int64_t dim) {
  std::string line;
  for (int64_t r = 0; r < rows; ++r) {
    line.clear();
    for (int64_t h = 0; h < dim; ++h) {
      if (h) line += '\t';
      append_float(line, mat[static_cast<size_t>(r * dim + h)]);
    }
    line += '\n';
    out.write(line.data(), line.size());
  }
}

}  // namespace

std::string choose_output_format(const std::string& path, const std::string& format_flag,
                                 const std::vector<std::pair<std::string, std::string>>& extensions,
                                 const std::string& fallback) {
  const std::string ext = path == "-" ? "" : ext_of(path);
  std::string by_ext, known;
  for (const auto& [e, f] : extensions) {
    if (e == ext) by_ext = f;
    known += (known.empty() ? "" : ", ") + e;
  }
  if (!format_flag.empty()) {
    if (!by_ext.empty() && by_ext != format_flag)
      throw UsageError(str_cat("-o ", path, ": the extension says ", by_ext, " but --format is ",
                               format_flag, "; make them agree"));
    return format_flag;
  }
  if (ext.empty()) return fallback;
  if (by_ext.empty())
    throw UsageError(str_cat("-o ", path, ": unknown extension '", ext, "' (", known,
                             "); give --format to write it anyway"));
  return by_ext;
}

std::string path_for_mode(const std::string& path, const std::string& name,
                          const std::string& default_ext) {
  const std::string ext = ext_of(path);
  const std::string stem = path.substr(0, path.size() - ext.size());
  return stem + "." + name + (ext.empty() ? default_ext : ext);
}

OutputFormat embedding_format(const std::string& path, const std::string& format_flag) {
  if (!format_flag.empty() && format_flag != "npy" && format_flag != "jsonl" && format_flag != "tsv")
    throw UsageError(str_cat("--format: unknown format '", format_flag, "' (npy, jsonl or tsv)"));
  const std::string f = choose_output_format(
      path, format_flag, {{".npy", "npy"}, {".jsonl", "jsonl"}, {".json", "jsonl"}, {".tsv", "tsv"}},
      "jsonl");
  return f == "npy" ? OutputFormat::kNpy : f == "tsv" ? OutputFormat::kTsv : OutputFormat::kJsonl;
}

EmbeddingOutputs::EmbeddingOutputs(const std::string& path, OutputFormat format,
                                   const std::vector<std::string>& names)
    : format_(format) {
  const bool to_stdout = path.empty() || path == "-";
  if (format == OutputFormat::kJsonl || names.size() == 1) {
    files_.push_back(std::make_unique<OutputFile>(to_stdout ? "-" : path));
    if (!to_stdout) paths_.push_back(path);
    return;
  }
  const char* ext = format == OutputFormat::kNpy ? ".npy" : ".tsv";
  if (to_stdout)
    throw UsageError(str_cat(ext + 1, " to stdout takes one --pool mode; use jsonl or -o FILE"));
  for (const std::string& name : names) {
    paths_.push_back(path_for_mode(path, name, ext));
    files_.push_back(std::make_unique<OutputFile>(paths_.back()));
  }
}

void EmbeddingOutputs::write(const std::vector<NamedMatrix>& mats, int64_t rows, int64_t dim) {
  if (format_ == OutputFormat::kJsonl) {
    write_jsonl(*files_[0], mats, rows, dim);
  } else {
    BERTC_CHECK(mats.size() == files_.size(), "embedding outputs: ", mats.size(), " matrices for ",
                files_.size(), " files");
    for (size_t i = 0; i < mats.size(); ++i) {
      if (format_ == OutputFormat::kNpy) {
        const std::string bytes = npy_bytes(mats[i].data->data(), {rows, dim});
        files_[i]->write(bytes.data(), bytes.size());
      } else {
        write_tsv(*files_[i], *mats[i].data, rows, dim);
      }
    }
  }
  for (auto& f : files_) f->commit();
}

}  // namespace bertc
