// Search indexes: build_index and SearchIndex (app/index.h). Checked by tests/app/index_test.cc
// and the CLI tests.
#include "app/index.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/output_file.h"
#include "common/error.h"
#include "common/progress.h"
#include "app/text_modes.h"
#include "weights/hash.h"

namespace bertc {
namespace {

namespace fs = std::filesystem;
constexpr int kIndexVersion = 1;
constexpr const char kNpyMagic[] = "\x93NUMPY";

// A .npy 1.0 header for a C-order [rows, dim] array of `descr` ('<f4' or '<f2'), padded so the
// data starts 64-byte aligned (as numpy does).
std::string npy_header(const char* descr, int64_t rows, int64_t dim) {
  std::string dict = str_cat("{'descr': '", descr, "', 'fortran_order': False, 'shape': (", rows,
                             ", ", dim, "), }");
  const size_t unpadded = 6 + 2 + 2 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string out(kNpyMagic, 6);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  return out + dict;
}

// Parses our own npy header back: returns the data offset, and the shape and dtype found.
size_t parse_npy_header(const char* p, size_t nbytes, const std::string& name, DType* dtype,
                        int64_t* rows, int64_t* dim) {
  BERTC_CHECK(nbytes >= 10 && std::memcmp(p, kNpyMagic, 6) == 0 && p[6] == 1, name,
              ": not a .npy 1.0 file");
  size_t hlen = static_cast<unsigned char>(p[8]) | (static_cast<unsigned char>(p[9]) << 8);
  BERTC_CHECK(10 + hlen <= nbytes, name, ": truncated .npy header");
  std::string h(p + 10, hlen);
  if (h.find("'<f4'") != std::string::npos) {
    *dtype = DType::kF32;
  } else if (h.find("'<f2'") != std::string::npos) {
    *dtype = DType::kF16;
  } else {
    BERTC_FAIL(name, ": expected float32 or float16 data");
  }
  BERTC_CHECK(h.find("'fortran_order': False") != std::string::npos, name, ": not C order");
  size_t s = h.find("'shape': (");
  BERTC_CHECK(s != std::string::npos &&
                  std::sscanf(h.c_str() + s, "'shape': (%ld, %ld)", rows, dim) == 2 && *rows >= 0 &&
                  *dim > 0,
              name, ": expected a 2-D shape");
  const size_t want = 10 + hlen + static_cast<size_t>(*rows * *dim) * dtype_nbytes(*dtype);
  BERTC_CHECK(nbytes == want, name, ": ", nbytes, " bytes, expected ", want, " for its header");
  return 10 + hlen;
}

std::string hex64(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string chunk_path(const fs::path& dir, const std::string& mode, int64_t chunk) {
  char buf[32];
  std::snprintf(buf, sizeof buf, ".chunk-%05lld.npy", static_cast<long long>(chunk));
  return (dir / (mode + buf)).string();
}

void write_atomic(const std::string& path, const std::string& bytes) {
  OutputFile f(path);
  f.write(bytes.data(), bytes.size());
  f.commit();
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  BERTC_CHECK(in, path, ": cannot open");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    BERTC_FAIL(path, ": invalid JSON (", e.what(), ")");
  }
}

}  // namespace

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  BERTC_CHECK(in, path, ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// What identifies a build: corpus, settings, modes and their models' fingerprints. A resume must
// match it exactly; "complete", "dims" and "models" (where the model files were) do not count.
nlohmann::ordered_json make_manifest(const IndexBuildOptions& options, const std::string& corpus_bytes,
                                     int64_t rows, const TextModes& modes) {
  nlohmann::ordered_json manifest;
  manifest["version"] = kIndexVersion;
  manifest["corpus"] = options.corpus_path;
  manifest["corpus_hash"] = hex64(bertc_hash64(corpus_bytes.data(), corpus_bytes.size()));
  manifest["rows"] = rows;
  manifest["dtype"] = options.dtype;
  manifest["chunk_rows"] = options.chunk_rows;
  manifest["modes"] = nlohmann::json::array();
  for (const std::string& m : modes.names())
    manifest["modes"].push_back({{"name", m}, {"fingerprint", modes.fingerprint(m)}});
  return manifest;
}

nlohmann::json identity_of(nlohmann::json manifest) {
  for (const char* key : {"complete", "dims", "models"}) manifest.erase(key);
  return manifest;
}

std::string npy_matrix(const std::string& dtype, const ModeMatrix& m) {
  std::string bytes = npy_header(dtype == "f16" ? "<f2" : "<f4", m.rows, m.dim);
  if (dtype == "f16") {
    std::vector<uint16_t> h(m.data.size());
    for (size_t i = 0; i < h.size(); ++i) h[i] = f32_to_f16(m.data[i]);
    bytes.append(reinterpret_cast<const char*>(h.data()), h.size() * 2);
  } else {
    bytes.append(reinterpret_cast<const char*>(m.data.data()), m.data.size() * 4);
  }
  return bytes;
}

// Embeds every chunk not stored yet (each written atomically), counting them in `stored`.
void embed_chunks(const IndexBuildOptions& options, const std::vector<std::string>& texts,
                  const TextModes& modes, int64_t& stored) {
  const fs::path dir(options.out_dir);
  const int64_t rows = static_cast<int64_t>(texts.size());
  const int64_t chunks = (rows + options.chunk_rows - 1) / options.chunk_rows;
  Progress progress("indexing", rows, !options.quiet);
  for (int64_t c = 0; c < chunks; ++c) {
    bool done = true;
    for (const std::string& m : modes.names()) done = done && fs::exists(chunk_path(dir, m, c));
    if (done) continue;
    const int64_t begin = c * options.chunk_rows, end = std::min(rows, begin + options.chunk_rows);
    std::vector<ModeMatrix> mats =
        modes.embed({texts.begin() + begin, texts.begin() + end}, "corpus line", false);
    for (ModeMatrix& m : mats) {
      l2_normalize_rows(m.data.data(), m.rows, m.dim);
      write_atomic(chunk_path(dir, m.name, c), npy_matrix(options.dtype, m));
    }
    ++stored;
    progress.update(end);
  }
  progress.finish();
}

// Joins the chunks into one mmap-able matrix per mode, then drops them; returns the dims.
std::vector<int64_t> join_chunks(const IndexBuildOptions& options, int64_t rows,
                                 const std::vector<std::string>& names) {
  const fs::path dir(options.out_dir);
  const int64_t chunks = (rows + options.chunk_rows - 1) / options.chunk_rows;
  const size_t esize = options.dtype == "f16" ? 2 : 4;
  std::vector<int64_t> dims(names.size(), 0);
  for (size_t mi = 0; mi < names.size(); ++mi) {
    std::string data;
    for (int64_t c = 0; c < chunks; ++c) {
      const std::string p = chunk_path(dir, names[mi], c);
      const std::string bytes = read_bytes(p);
      DType dt;
      int64_t r, d;
      size_t off = parse_npy_header(bytes.data(), bytes.size(), p, &dt, &r, &d);
      BERTC_CHECK(dims[mi] == 0 || dims[mi] == d, p, ": dim ", d, " differs from the other chunks");
      dims[mi] = d;
      data.append(bytes, off, std::string::npos);
    }
    BERTC_CHECK(static_cast<int64_t>(data.size()) == rows * dims[mi] * static_cast<int64_t>(esize),
                options.out_dir, ": chunks of mode ", names[mi], " do not add up to ", rows, " rows");
    write_atomic((dir / (names[mi] + ".npy")).string(),
                 npy_header(options.dtype == "f16" ? "<f2" : "<f4", rows, dims[mi]) + data);
  }
  for (const std::string& m : names)
    for (int64_t c = 0; c < chunks; ++c) fs::remove(chunk_path(dir, m, c));
  return dims;
}

}  // namespace

IndexBuildResult build_index(const IndexBuildOptions& options, const TextModes& modes) {
  // Everything that can be checked is checked before the directory exists.
  const std::string corpus_bytes = read_bytes(options.corpus_path);
  TextInputs corpus = read_text_inputs(options.corpus_path, options.input);
  BERTC_CHECK(!corpus.items.empty(), options.corpus_path, ": the corpus is empty");
  if (corpus.blank_lines > 0 && !options.quiet)
    std::fprintf(stderr, "index: note: %s: %lld blank lines kept as empty documents\n",
                 options.corpus_path.c_str(), static_cast<long long>(corpus.blank_lines));
  const std::vector<std::string> texts = corpus.texts();
  const int64_t rows = static_cast<int64_t>(texts.size());
  nlohmann::ordered_json manifest = make_manifest(options, corpus_bytes, rows, modes);
  nlohmann::ordered_json models = nlohmann::ordered_json::object();
  for (const std::string& m : modes.names())
    models[m == "w2v" ? "w2v" : "bert"] = fs::absolute(modes.model_path(m)).lexically_normal().string();
  manifest["models"] = models;

  const fs::path dir(options.out_dir);
  const std::string manifest_path = (dir / "manifest.json").string();
  const bool fresh = !fs::exists(manifest_path);
  bool created_dir = false;
  if (!fresh) {
    const nlohmann::json old = read_json(manifest_path);
    BERTC_CHECK(identity_of(old) == identity_of(manifest), options.out_dir,
                ": holds an index of another corpus, model or settings; remove it or choose another -o");
    if (old.value("complete", false)) {
      if (!options.quiet) std::fprintf(stderr, "index: %s is already complete\n", options.out_dir.c_str());
      return IndexBuildResult::kAlreadyComplete;
    }
    if (!options.quiet) std::fprintf(stderr, "index: resuming the build in %s\n", options.out_dir.c_str());
  } else {
    BERTC_CHECK(!fs::exists(dir) || fs::is_empty(dir), options.out_dir,
                ": exists and is not an index directory; remove it or choose another -o");
    created_dir = !fs::exists(dir);
    fs::create_directories(dir);
    manifest["complete"] = false;
    write_atomic(manifest_path, manifest.dump(2) + "\n");
  }
  int64_t stored = 0;
  try {
    std::string lines;
    for (int64_t i = 0; i < rows; ++i) {
      nlohmann::ordered_json j;
      j["text"] = texts[i];
      if (!corpus.ids.empty()) j["id"] = corpus.ids[i];
      lines += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
    write_atomic((dir / "texts.jsonl").string(), lines);
    embed_chunks(options, texts, modes, stored);
  } catch (...) {
    // Nothing embedded yet: leave no index behind, so that a corrected retry starts afresh
    // (rather than being held to this attempt's settings).
    if (fresh && stored == 0) {
      std::error_code ec;
      if (created_dir) {
        fs::remove_all(dir, ec);
      } else {
        fs::remove(manifest_path, ec);
        fs::remove(dir / "texts.jsonl", ec);
      }
    }
    throw;
  }
  manifest["dims"] = join_chunks(options, rows, modes.names());
  manifest["complete"] = true;
  write_atomic(manifest_path, manifest.dump(2) + "\n");
  if (!options.quiet)
    std::fprintf(stderr, "index: %lld documents x %zu modes (%s) -> %s\n", static_cast<long long>(rows),
                 modes.names().size(), options.dtype.c_str(), options.out_dir.c_str());
  return IndexBuildResult::kBuilt;
}

SearchIndex::SearchIndex(const std::string& dir) : dir_(dir) {
  const fs::path d(dir);
  nlohmann::json manifest = read_json((d / "manifest.json").string());
  BERTC_CHECK(manifest.value("version", 0) == kIndexVersion, dir, ": index version ",
              manifest.value("version", 0), " is not supported (", kIndexVersion, "); rebuild it");
  BERTC_CHECK(manifest.value("complete", false), dir,
              ": the index build did not finish; run bertc index build again to resume it");
  const int64_t rows = manifest["rows"].get<int64_t>();
  for (const auto& m : manifest["modes"]) {
    modes_.push_back(m["name"].get<std::string>());
    fingerprints_.push_back(m["fingerprint"].get<std::string>());
  }
  if (manifest.contains("models") && manifest["models"].is_object()) {
    bert_model_path_ = manifest["models"].value("bert", "");
    w2v_model_path_ = manifest["models"].value("w2v", "");
  }
  {
    std::ifstream in(d / "texts.jsonl");
    BERTC_CHECK(in, dir, ": texts.jsonl is missing");
    for (std::string line; std::getline(in, line);) {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      BERTC_CHECK(!j.is_discarded() && j.contains("text"), dir, ": texts.jsonl line ",
                  texts_.size() + 1, " is not {\"text\", ...}");
      texts_.push_back(j["text"].get<std::string>());
      if (j.contains("id")) ids_.push_back(j["id"].get<std::string>());
    }
    BERTC_CHECK(static_cast<int64_t>(texts_.size()) == rows, dir, ": texts.jsonl has ", texts_.size(),
                " lines, the manifest says ", rows);
  }
  for (const std::string& m : modes_) {
    const std::string p = (d / (m + ".npy")).string();
    int fd = ::open(p.c_str(), O_RDONLY);
    BERTC_CHECK(fd >= 0, p, ": cannot open: ", std::strerror(errno));
    struct stat st;
    ::fstat(fd, &st);
    const size_t nbytes = static_cast<size_t>(st.st_size);
    void* addr = nbytes ? ::mmap(nullptr, nbytes, PROT_READ, MAP_SHARED, fd, 0) : nullptr;
    ::close(fd);
    BERTC_CHECK(addr != MAP_FAILED, p, ": mmap failed: ", std::strerror(errno));
    maps_.push_back({addr, nbytes});
    CorpusView v;
    size_t off = parse_npy_header(static_cast<const char*>(addr), nbytes, p, &v.dtype, &v.rows, &v.dim);
    BERTC_CHECK(v.rows == rows, p, ": ", v.rows, " rows, the manifest says ", rows);
    v.data = static_cast<const char*>(addr) + off;
    views_.push_back(v);
  }
}

SearchIndex::~SearchIndex() {
  for (const Map& m : maps_)
    if (m.addr) ::munmap(m.addr, m.nbytes);
}

CorpusView SearchIndex::checked_view(const std::string& name, const std::string& fingerprint) const {
  const auto it = std::find(modes_.begin(), modes_.end(), name);
  BERTC_CHECK(it != modes_.end(), dir_, ": the index has no mode '", name, "'");
  const size_t i = static_cast<size_t>(it - modes_.begin());
  BERTC_CHECK(fingerprints_[i] == fingerprint, dir_, ": mode '", name,
              "' was built with another model (fingerprint ", fingerprints_[i], ", this model ",
              fingerprint, "); pass the same model or rebuild the index");
  return views_[i];
}

}  // namespace bertc
