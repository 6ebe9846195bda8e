// Output writers for `bertc embed` (see tools/output.h).
#include "tools/output.h"

#include <memory>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/npy.h"
#include "common/strings.h"

namespace bertc {
namespace {

void put(std::FILE* out, const std::string& s, const std::string& where) {
  BERTC_CHECK(std::fwrite(s.data(), 1, s.size(), out) == s.size(), where, ": write failed");
}

std::string ext_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  return path.substr(dot);
}

}  // namespace

OutputFormat parse_output_format(const std::string& name) {
  if (name == "npy") return OutputFormat::kNpy;
  if (name == "jsonl") return OutputFormat::kJsonl;
  if (name == "tsv") return OutputFormat::kTsv;
  throw UsageError(str_cat("--format: unknown format '", name, "' (npy, jsonl or tsv)"));
}

OutputFormat output_format_for(const std::string& path) {
  const std::string ext = ext_of(path);
  if (ext == ".npy") return OutputFormat::kNpy;
  if (ext == ".tsv") return OutputFormat::kTsv;
  return OutputFormat::kJsonl;
}

void write_jsonl(std::FILE* out, const std::vector<NamedMatrix>& mats, int64_t rows, int64_t dim) {
  std::string line;
  for (int64_t r = 0; r < rows; ++r) {
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
      line += ", \"" + m.name + "\": ";
      if (m.ragged) {
        const std::vector<float>& rows_r = (*m.ragged)[static_cast<size_t>(r)];
        line += "[";
        for (size_t t = 0; t < rows_r.size(); t += static_cast<size_t>(dim)) {
          if (t) line += ", ";
          append_row(rows_r.data() + t);
        }
        line += "]";
      } else {
        append_row(m.data->data() + r * dim);
      }
    }
    line += "}\n";
    put(out, line, "jsonl output");
  }
}

void write_tsv(std::FILE* out, const std::vector<float>& mat, int64_t rows, int64_t dim) {
  std::string line;
  for (int64_t r = 0; r < rows; ++r) {
    line.clear();
    for (int64_t h = 0; h < dim; ++h) {
      if (h) line += '\t';
      append_float(line, mat[static_cast<size_t>(r * dim + h)]);
    }
    line += '\n';
    put(out, line, "tsv output");
  }
}

std::vector<std::string> write_embeddings(const std::string& path, OutputFormat format,
                                          const std::vector<NamedMatrix>& mats, int64_t rows,
                                          int64_t dim) {
  for (const NamedMatrix& m : mats)
    if (m.ragged && format != OutputFormat::kJsonl)
      throw UsageError("--pool tokens (per-token states) needs jsonl output");
  if (path.empty() || path == "-") {
    BERTC_CHECK(format != OutputFormat::kNpy, "npy output needs a file (-o OUT.npy)");
    if (format == OutputFormat::kTsv) {
      if (mats.size() != 1)
        throw UsageError("tsv to stdout takes one --pool mode; use jsonl or -o FILE");
      write_tsv(stdout, *mats[0].data, rows, dim);
    } else {
      write_jsonl(stdout, mats, rows, dim);
    }
    std::fflush(stdout);
    return {};
  }
  if (format == OutputFormat::kJsonl) {
    AtomicFile file(path);
    write_jsonl(file.file(), mats, rows, dim);
    file.commit();
    return {path};
  }
  // npy / tsv: one file per matrix; with several, PATH's stem gets the mode name.
  std::string stem = path, ext = ext_of(path);
  if (!ext.empty()) stem.resize(path.size() - ext.size());
  if (ext.empty()) ext = format == OutputFormat::kNpy ? ".npy" : ".tsv";
  // Commit only after every file is written, so a failure leaves none of them behind.
  std::vector<std::unique_ptr<AtomicFile>> files;
  std::vector<std::string> paths;
  for (const NamedMatrix& m : mats) {
    const std::string p = mats.size() == 1 ? path : stem + "." + m.name + ext;
    files.push_back(std::make_unique<AtomicFile>(p));
    if (format == OutputFormat::kNpy) {
      const std::string bytes = npy_bytes(m.data->data(), {rows, dim});
      files.back()->write(bytes.data(), bytes.size());
    } else {
      write_tsv(files.back()->file(), *m.data, rows, dim);
    }
    paths.push_back(p);
  }
  for (auto& f : files) f->commit();
  return paths;
}

}  // namespace bertc
