// Search indexes: `bertc index build` embeds a corpus once per mode and stores, in a directory,
// manifest.json (modes, dims, dtype, model fingerprints, corpus hash), texts.jsonl and one
// L2-normalised <mode>.npy per mode (float32 or float16, 64-byte aligned, mmap-able, readable by
// numpy.load). The build works in chunks (<mode>.chunk-NNNNN.npy, each written atomically), so an
// interrupted build resumes where it stopped. `bertc search --index` maps the matrices.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/search.h"
#include "app/text_input.h"
#include "app/text_modes.h"

namespace bertc {

struct IndexBuildOptions {
  std::string corpus_path;
  InputOptions input;         // how the corpus is read (app/text_input.h)
  std::string out_dir;
  std::string dtype = "f32";  // stored embeddings: f32 | f16 (the CLI's --store-dtype)
  int64_t chunk_rows = 4096;  // documents per chunk (the unit of resumption)
  bool quiet = false;         // no progress or notes on stderr
};

// What build_index did: kBuilt (now complete), kAlreadyComplete (nothing to do).
enum class IndexBuildResult { kBuilt, kAlreadyComplete };

// Builds (or resumes) the index of options.corpus_path in options.out_dir with the modes of
// `modes`. Refuses a directory holding another corpus, model or settings, or a non-empty
// directory that is not an index. Throws bertc::Error naming the file and the problem; a new
// build that fails before its first chunk is stored leaves nothing behind, so a corrected retry
// starts afresh. The manifest records the model files, so search can reopen them.
IndexBuildResult build_index(const IndexBuildOptions& options, const TextModes& modes);

class SearchIndex {
 public:
  // Opens a complete index; throws naming the directory and the problem.
  explicit SearchIndex(const std::string& dir);
  ~SearchIndex();
  SearchIndex(const SearchIndex&) = delete;
  SearchIndex& operator=(const SearchIndex&) = delete;

  const std::vector<std::string>& modes() const { return modes_; }
  const std::string& fingerprint(size_t mode) const { return fingerprints_[mode]; }
  CorpusView view(size_t mode) const { return views_[mode]; }
  // The view of mode `name` for queries embedded by the model whose mode_fingerprint is
  // `fingerprint` (app/text_modes.h); throws naming the index when it lacks the mode or was
  // built with another model. `bertc search --index` and `bertc serve --index` both check so.
  CorpusView checked_view(const std::string& name, const std::string& fingerprint) const;
  const std::vector<std::string>& texts() const { return texts_; }
  const std::vector<std::string>& ids() const { return ids_; }
  // The model files the index was built with (absolute paths; empty when not recorded or when
  // no mode used one).
  const std::string& bert_model_path() const { return bert_model_path_; }
  const std::string& w2v_model_path() const { return w2v_model_path_; }

 private:
  struct Map {
    void* addr = nullptr;
    size_t nbytes = 0;
  };
  std::string dir_;
  std::vector<std::string> modes_, fingerprints_, texts_, ids_;
  std::string bert_model_path_, w2v_model_path_;
  std::vector<CorpusView> views_;
  std::vector<Map> maps_;
};

}  // namespace bertc
