// word2vec reader (binary and text, one pass), converter to .bertc and tensor-set validation.
// Checked by tests/weights/word2vec_test.cc (GloVe fixture in both formats, every malformed case)
// and fuzzed by tests/fuzz/word2vec_fuzz.cc.
#include "weights/word2vec.h"

#include <sys/stat.h>

#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <future>
#include <memory>
#include <optional>

#include "common/error.h"
#include "common/strings.h"
#include "weights/model_file.h"
#include "weights/writer.h"

namespace bertc {
namespace {

// Binary records hold little-endian float32; a big-endian host would need a byte swap.
static_assert(std::endian::native == std::endian::little, "word2vec reader assumes little-endian");

constexpr size_t kReadChunk = 1 << 20;
// A text line holds at most kW2vMaxDim numbers of a few dozen characters each.
constexpr size_t kMaxLineBytes = 8u << 20;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// Parses a non-negative decimal integer that fills all of `s`.
bool parse_count(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 18) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= 0;
}

// Splits `line` at runs of spaces/tabs.
std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    size_t j = i;
    while (j < line.size() && !is_space(line[j])) ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string printable(std::string_view word) {
  std::string out;
  for (unsigned char c : word.substr(0, 40)) {
    if (c >= 0x20 && c != 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return word.size() > 40 ? out + "..." : out;
}

}  // namespace

Word2VecReader::Word2VecReader(std::FILE* file, std::string name)
    : file_(file), name_(std::move(name)), buf_(kReadChunk) {
  // The first line is either the `count dim` header or (headerless text) the first record.
  BERTC_CHECK(read_line(pending_), name_, ": file is empty (expected a word2vec binary or text file)");
  std::vector<std::string_view> fields = split_fields(pending_);
  int64_t count = 0, dim = 0;
  if (fields.size() == 2 && parse_count(fields[0], count) && parse_count(fields[1], dim)) {
    BERTC_CHECK(dim >= 1 && dim <= kW2vMaxDim, name_, ": header declares dim ", dim,
                ", expected 1..", kW2vMaxDim);
    count_ = count;
    dim_ = dim;
    line_ = 1;
    pending_.clear();
    // Text or binary: a text file's next line is a word and exactly dim numbers. Look at it
    // without consuming it; a binary record's float bytes fail this almost surely.
    binary_ = true;
    for (;;) {
      const char* start = buf_.data() + pos_;
      const char* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - pos_));
      if (nl) {
        std::vector<std::string_view> f = split_fields(std::string_view(start, nl - start));
        bool numbers = f.size() >= 2;
        for (size_t i = 1; i < f.size() && numbers; ++i) {
          float v;
          auto [p, ec] = std::from_chars(f[i].data(), f[i].data() + f[i].size(), v);
          numbers = p == f[i].data() + f[i].size() && ec != std::errc::invalid_argument;
        }
        // A word and only numbers is a text record (a binary one's float bytes fail this almost
        // surely); with another count than the header's dim it is the header that is wrong.
        BERTC_CHECK(!numbers || static_cast<int64_t>(f.size()) == dim_ + 1, name_, ": line 2 has ",
                    f.size() - 1, " values, expected ", dim_, " (the header's dim)");
        binary_ = !numbers;
        break;
      }
      if (end_ - pos_ >= kMaxLineBytes || !fill()) break;  // no newline: binary (or too short)
    }
    if (count_ == 0) binary_ = true;  // nothing to tell apart; an empty file either way
  } else {
    // No header: text (GloVe). The first line is the first record and fixes dim.
    BERTC_CHECK(fields.size() >= 2, name_, ": line 1 has no values (expected a `count dim` header ",
                "or `word v1 v2 ...`)");
    dim_ = static_cast<int64_t>(fields.size()) - 1;
    BERTC_CHECK(dim_ <= kW2vMaxDim, name_, ": line 1 has ", dim_, " values, at most ", kW2vMaxDim,
                " are supported");
    binary_ = false;
    has_pending_ = true;
  }
  values_.resize(static_cast<size_t>(dim_));
}

bool Word2VecReader::fill() {
  if (eof_) return false;
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
  size_t got = std::fread(buf_.data() + end_, 1, buf_.size() - end_, file_);
  if (got == 0) {
    BERTC_CHECK(!std::ferror(file_), name_, ": read failed: ", std::strerror(errno));
    eof_ = true;
    return false;
  }
  end_ += got;
  return true;
}

int Word2VecReader::peek() {
  if (pos_ == end_ && !fill()) return EOF;
  return static_cast<unsigned char>(buf_[pos_]);
}

bool Word2VecReader::read_line(std::string& line) {
  size_t scanned = 0;
  for (;;) {
    const char* start = buf_.data() + pos_;
    const char* nl = static_cast<const char*>(std::memchr(start + scanned, '\n', end_ - pos_ - scanned));
    if (nl) {
      line.assign(start, nl - start);
      pos_ += (nl - start) + 1;
      return true;
    }
    scanned = end_ - pos_;
    BERTC_CHECK(scanned <= kMaxLineBytes, name_, ": line ", line_ + 1, " is longer than ",
                kMaxLineBytes, " bytes (not a word2vec text file?)");
    if (!fill()) {
      if (pos_ == end_) return false;
      line.assign(buf_.data() + pos_, end_ - pos_);  // last line without '\n'
      pos_ = end_;
      return true;
    }
  }
}

std::string Word2VecReader::record_label() const {
  if (binary_) return str_cat("record ", records_ + 1, " of ", count_);
  return str_cat("line ", line_);
}

bool Word2VecReader::next(Word2VecRecord& record) {
  if (count_ >= 0 && records_ == count_) {
    // The header's count is reached: anything but trailing whitespace means it was wrong.
    for (int c = peek(); c != EOF; c = peek()) {
      BERTC_CHECK(c == '\n' || is_space(static_cast<char>(c)), name_, ": data after the ", count_,
                  " records the header declares (wrong count in the header?)");
      ++pos_;
    }
    return false;
  }
  bool ok = binary_ ? next_binary(record) : next_text(record);
  if (!ok) {
    BERTC_CHECK(count_ < 0, name_, ": file ends after ", records_, " of ", count_,
                " records (wrong count in the header, or a truncated file)");
    return false;
  }
  ++records_;
  return true;
}

bool Word2VecReader::next_binary(Word2VecRecord& record) {
  // word2vec.c writes "word " + dim floats + "\n"; other writers omit the newline.
  int c;
  while ((c = peek()) == '\n') ++pos_;
  if (c == EOF) return false;
  size_t scanned = 0;
  for (;;) {
    const char* start = buf_.data() + pos_;
    const char* sp = static_cast<const char*>(std::memchr(start + scanned, ' ', end_ - pos_ - scanned));
    if (sp) {
      word_.assign(start, sp - start);
      pos_ += (sp - start) + 1;
      break;
    }
    scanned = end_ - pos_;
    BERTC_CHECK(scanned <= kW2vMaxWordBytes, name_, ": ", record_label(), ": word longer than ",
                kW2vMaxWordBytes, " bytes (not a word2vec binary file?)");
    BERTC_CHECK(fill(), name_, ": ", record_label(), " is truncated");
  }
  BERTC_CHECK(!word_.empty(), name_, ": ", record_label(), " has an empty word");
  size_t nbytes = static_cast<size_t>(dim_) * sizeof(float);
  while (end_ - pos_ < nbytes) BERTC_CHECK(fill(), name_, ": ", record_label(), " is truncated");
  std::memcpy(values_.data(), buf_.data() + pos_, nbytes);
  pos_ += nbytes;
  record.word = word_;
  record.values = values_.data();
  return true;
}

bool Word2VecReader::next_text(Word2VecRecord& record) {
  std::string line;
  for (;;) {
    if (has_pending_) {
      line = std::move(pending_);
      has_pending_ = false;
    } else if (!read_line(line)) {
      return false;
    }
    ++line_;
    // Blank lines (a trailing one is common) are not records.
    bool blank = true;
    for (char ch : line) blank = blank && is_space(ch);
    if (!blank) break;
  }
  size_t i = 0;
  while (i < line.size() && is_space(line[i])) ++i;
  size_t j = i;
  while (j < line.size() && !is_space(line[j])) ++j;
  word_.assign(line, i, j - i);
  parse_text_values(std::string_view(line).substr(j), line_);
  record.word = word_;
  record.values = values_.data();
  return true;
}

void Word2VecReader::parse_text_values(std::string_view rest, int64_t line_number) {
  int64_t n = 0;
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && is_space(rest[i])) ++i;
    if (i == rest.size()) break;
    size_t j = i;
    while (j < rest.size() && !is_space(rest[j])) ++j;
    std::string_view field = rest.substr(i, j - i);
    // from_chars rejects a leading '+', which some writers emit.
    if (field.size() > 1 && field[0] == '+') field.remove_prefix(1);
    BERTC_CHECK(n < dim_, name_, ": line ", line_number, " ('", printable(word_), "') has more than ",
                dim_, " values");
    float v;
    auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
    BERTC_CHECK(p == field.data() + field.size() &&
                    (ec == std::errc() || ec == std::errc::result_out_of_range),
                name_, ": line ", line_number, " ('", printable(word_), "'): value ", n + 1, " '",
                printable(field), "' is not a number");
    values_[static_cast<size_t>(n++)] = v;
    i = j;
  }
  BERTC_CHECK(n == dim_, name_, ": line ", line_number, " ('", printable(word_), "') has ", n,
              " values, expected ", dim_);
}

namespace {

// Grows as words arrive; finds duplicates while reading. Same hash and probing as the stored table.
class WordSet {
 public:
  // `slots`: a power of two; sized for the final count, the set never grows and ends up equal to
  // the stored table (same hash, probing and insertion order).
  explicit WordSet(size_t slots = 1024) : slots_(slots, 0) {}
  // Inserts row `row` unless an equal word is present; returns false for a duplicate.
  bool insert(std::string_view word, uint32_t row, const std::vector<char>& bytes,
              const std::vector<uint64_t>& offsets) {
    if (2 * (size_ + 1) > slots_.size()) grow(bytes, offsets);
    size_t mask = slots_.size() - 1;
    for (size_t i = word2vec_hash(word) & mask;; i = (i + 1) & mask) {
      uint32_t s = slots_[i];
      if (s == 0) {
        slots_[i] = row + 1;
        ++size_;
        return true;
      }
      uint64_t a = offsets[s - 1], b = offsets[s];
      if (std::string_view(bytes.data() + a, b - a) == word) return false;
    }
  }
  std::vector<uint32_t> release() { return std::move(slots_); }

 private:
  void grow(const std::vector<char>& bytes, const std::vector<uint64_t>& offsets) {
    std::vector<uint32_t> old = std::move(slots_);
    slots_.assign(old.size() * 2, 0);
    size_t mask = slots_.size() - 1;
    for (uint32_t s : old) {
      if (s == 0) continue;
      std::string_view w(bytes.data() + offsets[s - 1], offsets[s] - offsets[s - 1]);
      size_t i = word2vec_hash(w) & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  std::vector<uint32_t> slots_;
  size_t size_ = 0;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// What reading gathers besides the vectors: the counts, every kept word in row order, and the
// duplicate finder.
struct Collected {
  Word2VecConvertStats stats;
  std::vector<char> words;
  std::vector<uint64_t> offsets{0};
  WordSet seen;
};

// Reads records (up to the limit), checks their values, skips duplicates (the first one is kept)
// and passes each kept row, scaled and in the output dtype, to emit(bytes). With
// `stop_at_duplicate` it returns false at the first duplicate instead of skipping it.
template <typename Emit>
bool read_rows(Word2VecReader& reader, const std::string& input,
               const Word2VecConvertOptions& options, bool stop_at_duplicate, Collected& c,
               Emit&& emit) {
  const int64_t dim = reader.dim();
  Word2VecConvertStats& stats = c.stats;
  stats.binary = reader.binary();
  stats.dim = dim;
  std::vector<char> row(static_cast<size_t>(dim) * dtype_nbytes(options.dtype));
  Word2VecRecord record;
  const int64_t progress_every = 1000000;
  while ((options.limit == 0 || stats.records < options.limit) && reader.next(record)) {
    ++stats.records;
    if (!options.quiet && stats.records % progress_every == 0)
      std::fprintf(stderr, "convert: %s: %lld words read\n", input.c_str(),
                   static_cast<long long>(stats.records));
    BERTC_CHECK(stats.words < int64_t{UINT32_MAX} - 1, input, ": more than ", UINT32_MAX - 2,
                " words are not supported");
    for (int64_t d = 0; d < dim; ++d) {
      if (std::isfinite(record.values[d])) continue;
      BERTC_CHECK(options.allow_nonfinite, input, ": ", stats.binary ? "record " : "word ",
                  stats.records, " ('", printable(record.word), "'): value ", d + 1, " is ",
                  std::isnan(record.values[d]) ? "NaN" : "Inf",
                  " (use --allow-nonfinite to keep such values)");
      ++stats.nonfinite;
    }
    c.words.insert(c.words.end(), record.word.begin(), record.word.end());
    c.offsets.push_back(c.words.size());
    if (!c.seen.insert(record.word, static_cast<uint32_t>(stats.words), c.words, c.offsets)) {
      c.words.resize(c.offsets[c.offsets.size() - 2]);
      c.offsets.pop_back();
      ++stats.duplicates;
      if (stop_at_duplicate) return false;
      continue;
    }
    ++stats.words;
    float scale = 1.0f;
    if (options.normalize) {
      double sum = 0;
      for (int64_t d = 0; d < dim; ++d) sum += double(record.values[d]) * record.values[d];
      // A zero vector stays zero rather than becoming NaN.
      if (sum > 0) scale = static_cast<float>(1.0 / std::sqrt(sum));
    }
    if (options.dtype == DType::kF32) {
      float* dst = reinterpret_cast<float*>(row.data());
      for (int64_t d = 0; d < dim; ++d) dst[d] = record.values[d] * scale;
    } else {
      uint16_t* dst = reinterpret_cast<uint16_t*>(row.data());
      for (int64_t d = 0; d < dim; ++d) dst[d] = f32_to_f16(record.values[d] * scale);
    }
    emit(row.data());
  }
  BERTC_CHECK(stats.words > 0, input, ": no words were read");
  return true;
}

// A power of two >= 2V slots keeps probes short (load <= 0.5).
size_t table_capacity(int64_t words) {
  return std::bit_ceil(static_cast<size_t>(std::max<int64_t>(2 * words, 16)));
}

std::vector<uint32_t> build_table(const Collected& c) {
  const size_t capacity = table_capacity(c.stats.words);
  std::vector<uint32_t> table(capacity, 0);
  for (int64_t r = 0; r < c.stats.words; ++r) {
    std::string_view w(c.words.data() + c.offsets[r], c.offsets[r + 1] - c.offsets[r]);
    size_t i = word2vec_hash(w) & (capacity - 1);
    while (table[i] != 0) i = (i + 1) & (capacity - 1);
    table[i] = static_cast<uint32_t>(r + 1);
  }
  return table;
}

// Sets the metadata and declares the four tensors; `stats` gives the counts that the metadata
// records, so they must be final.
void start_output(ModelWriter& writer, const std::string& input,
                  const Word2VecConvertOptions& options, const Word2VecConvertStats& stats,
                  size_t words_nbytes) {
  Word2VecInfo info;
  info.count = stats.words;
  info.dim = stats.dim;
  info.normalized = options.normalize;
  writer.set_word2vec(info);
  writer.set_metadata_json(str_cat(
      "{\"source\": \"", printable(input), "\", \"source_format\": \"word2vec ",
      stats.binary ? "binary" : "text", "\", \"records\": ", stats.records, ", \"duplicates\": ",
      stats.duplicates, ", \"nonfinite\": ", stats.nonfinite, ", \"limit\": ", options.limit, "}"));
  writer.declare(std::string(kW2vVectors), options.dtype, {stats.words, stats.dim});
  writer.declare(std::string(kW2vWordOffsets), DType::kU64, {stats.words + 1});
  writer.declare(std::string(kW2vWordBytes), DType::kU8, {static_cast<int64_t>(words_nbytes)});
  writer.declare(std::string(kW2vHashTable), DType::kU32,
                 {static_cast<int64_t>(table_capacity(stats.words))});
}

void finish_output(ModelWriter& writer, const Collected& c, const std::vector<uint32_t>& table) {
  writer.write(kW2vWordOffsets, c.offsets.data(), c.offsets.size() * sizeof(uint64_t));
  writer.write(kW2vWordBytes, c.words.data(), c.words.size());
  writer.write(kW2vHashTable, table.data(), table.size() * sizeof(uint32_t));
  writer.commit();
}

// Writes the rows as they are read, in 4 MB pieces, when their count `rows` is known up front.
// Keeping 3.6 GB of GoogleNews vectors in memory until the end cost more than parsing: every
// fresh page is a fault, and none of the writing overlapped the reading. Each piece is written
// (hashed, then copied into the page cache by the kernel: over half the time) on a second thread
// while the next one is parsed. Needs a metadata that is final before the first row, so no
// duplicate (returns nothing, leaving no output, at the first one) and no non-finite value kept
// (the caller's condition).
std::optional<Collected> convert_streaming(Word2VecReader& reader, const std::string& input,
                                           const std::string& output,
                                           const Word2VecConvertOptions& options, int64_t rows) {
  constexpr size_t kPieceNbytes = 4 << 20;
  Collected c;
  c.offsets.reserve(static_cast<size_t>(rows) + 1);
  c.seen = WordSet(table_capacity(rows));
  Word2VecConvertStats final_stats;  // what a successful read ends with
  final_stats.binary = reader.binary();
  final_stats.records = final_stats.words = rows;
  final_stats.dim = reader.dim();
  ModelWriter writer(output, ModelKind::kWord2Vec);
  start_output(writer, input, options, final_stats, 0);  // word bytes: resized at the end
  const size_t row_nbytes = static_cast<size_t>(reader.dim()) * dtype_nbytes(options.dtype);
  std::vector<char> piece, writing;  // filled here / being written by `pending`
  piece.reserve(kPieceNbytes + row_nbytes);
  writing.reserve(kPieceNbytes + row_nbytes);
  // Declared last, so that on any exit its destructor waits for the write before the buffers and
  // the writer go away.
  std::future<void> pending;
  auto flush = [&] {
    if (pending.valid()) pending.get();  // rethrows a failed write (disk full)
    std::swap(piece, writing);
    piece.clear();
    pending = std::async(std::launch::async,
                         [&] { writer.write(kW2vVectors, writing.data(), writing.size()); });
  };
  const bool complete = read_rows(reader, input, options, true, c, [&](const char* row) {
    piece.insert(piece.end(), row, row + row_nbytes);
    if (piece.size() >= kPieceNbytes) flush();
  });
  if (!complete) return std::nullopt;
  flush();
  pending.get();
  // The reader checked the header's count, so records == rows; commit() checks the sizes.
  writer.resize(kW2vWordBytes, {static_cast<int64_t>(c.words.size())});
  finish_output(writer, c, c.seen.release());
  return c;
}

// The row count the header announces (0: none), capped by --limit.
int64_t announced_rows(const Word2VecReader& reader, const Word2VecConvertOptions& options) {
  const int64_t rows = reader.declared_count();
  return options.limit > 0 ? std::min(rows, options.limit) : rows;
}

// The most records a file of file_nbytes can hold, so that a lying header never makes the
// converter allocate terabytes: a record takes at least dim * 4 + 2 bytes in binary (a one-byte
// word, a space, the floats) and dim * 2 + 2 in text (one digit and a separator per value).
int64_t max_records(const Word2VecReader& reader, int64_t file_nbytes) {
  return file_nbytes / (reader.binary() ? reader.dim() * 4 + 2 : reader.dim() * 2 + 2);
}

Collected convert_buffered(Word2VecReader& reader, const std::string& input,
                           const std::string& output, const Word2VecConvertOptions& options,
                           int64_t file_nbytes) {
  const size_t row_nbytes = static_cast<size_t>(reader.dim()) * dtype_nbytes(options.dtype);
  Collected c;
  std::vector<char> vectors;
  // Reserve from the header, but never beyond what the file can hold.
  const int64_t rows = std::min(announced_rows(reader, options), max_records(reader, file_nbytes));
  if (rows > 0) {
    vectors.reserve(static_cast<size_t>(rows) * row_nbytes);
    c.offsets.reserve(static_cast<size_t>(rows) + 1);
  }
  read_rows(reader, input, options, false, c,
            [&](const char* row) { vectors.insert(vectors.end(), row, row + row_nbytes); });
  ModelWriter writer(output, ModelKind::kWord2Vec);
  start_output(writer, input, options, c.stats, c.words.size());
  writer.write(kW2vVectors, vectors.data(), vectors.size());
  finish_output(writer, c, build_table(c));
  return c;
}

}  // namespace

Word2VecConvertStats convert_word2vec(const std::string& input, const std::string& output,
                                      const Word2VecConvertOptions& options) {
  BERTC_CHECK(options.dtype == DType::kF32 || options.dtype == DType::kF16, output,
              ": word2vec vectors are stored as f32 or f16, not ", dtype_name(options.dtype));
  BERTC_CHECK(options.limit >= 0, input, ": --limit must be >= 0, got ", options.limit);
  struct stat st;
  BERTC_CHECK(::stat(input.c_str(), &st) == 0, input, ": cannot open: ", std::strerror(errno));
  BERTC_CHECK(!S_ISDIR(st.st_mode), input, ": is a directory, not a word2vec file");
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(input.c_str(), "rb"));
  BERTC_CHECK(file, input, ": cannot open: ", std::strerror(errno));

  std::optional<Collected> done;
  {
    Word2VecReader reader(file.get(), input);
    const int64_t rows = announced_rows(reader, options);
    // Stream when the header gives the row count and the file can hold that many records (a
    // lying header must not allocate, and will fail the read anyway); reading again needs a
    // regular file.
    if (rows > 0 && rows <= max_records(reader, st.st_size) && S_ISREG(st.st_mode) &&
        !options.allow_nonfinite) {
      done = convert_streaming(reader, input, output, options, rows);
      if (!done && !options.quiet)
        std::fprintf(stderr, "convert: %s: duplicate words; converting again from the start\n",
                     input.c_str());
    } else {
      done = convert_buffered(reader, input, output, options, st.st_size);
    }
  }
  if (!done) {
    std::rewind(file.get());
    Word2VecReader reader(file.get(), input);
    done = convert_buffered(reader, input, output, options, st.st_size);
  }

  const Word2VecConvertStats& stats = done->stats;
  if (!options.quiet) {
    std::fprintf(stderr, "convert: %s (word2vec %s): %lld words x %lld", input.c_str(),
                 stats.binary ? "binary" : "text", static_cast<long long>(stats.words),
                 static_cast<long long>(stats.dim));
    if (stats.duplicates)
      std::fprintf(stderr, ", %lld duplicates skipped (first kept)",
                   static_cast<long long>(stats.duplicates));
    if (stats.nonfinite)
      std::fprintf(stderr, ", %lld non-finite values kept", static_cast<long long>(stats.nonfinite));
    std::fprintf(stderr, " -> %s (%s%s)\n", output.c_str(), std::string(dtype_name(options.dtype)).c_str(),
                 options.normalize ? ", normalized" : "");
  }
  return stats;
}

void validate_word2vec(const Word2VecInfo& info, size_t num_tensors,
                       const std::function<const TensorInfo*(std::string_view)>& find,
                       const std::string& name) {
  BERTC_CHECK(info.count >= 1 && info.count < int64_t{UINT32_MAX} && info.dim >= 1 &&
                  info.dim <= kW2vMaxDim,
              name, ": word2vec config has count ", info.count, " and dim ", info.dim,
              ", expected count >= 1 and dim in 1..", kW2vMaxDim);
  // shape: the expected shape; a -1 entry matches any size.
  auto expect = [&](std::string_view tname, DType dtype, DType alt_dtype,
                    std::vector<int64_t> shape) -> const TensorInfo& {
    const TensorInfo* t = find(tname);
    BERTC_CHECK(t, name, ": tensor '", tname, "' is missing");
    BERTC_CHECK(t->dtype == dtype || t->dtype == alt_dtype, name, ": tensor '", tname,
                "' has dtype ", dtype_name(t->dtype), ", expected ", dtype_name(dtype));
    bool same = t->shape.size() == shape.size();
    for (size_t i = 0; same && i < shape.size(); ++i) same = shape[i] < 0 || t->shape[i] == shape[i];
    BERTC_CHECK(same, name, ": tensor '", tname, "' has shape ", shape_str(t->shape),
                ", expected ", shape_str(shape));
    return *t;
  };
  expect(kW2vVectors, DType::kF32, DType::kF16, {info.count, info.dim});
  const TensorInfo& offsets = expect(kW2vWordOffsets, DType::kU64, DType::kU64, {info.count + 1});
  const TensorInfo& bytes = expect(kW2vWordBytes, DType::kU8, DType::kU8, {-1});
  const TensorInfo& table = expect(kW2vHashTable, DType::kU32, DType::kU32, {-1});
  BERTC_CHECK(std::has_single_bit(static_cast<uint64_t>(table.shape[0])) &&
                  table.shape[0] > info.count,
              name, ": tensor '", kW2vHashTable, "' has ", table.shape[0],
              " slots, expected a power of two above the word count ", info.count);
  std::span<const uint64_t> off = offsets.as<uint64_t>();
  BERTC_CHECK(off[0] == 0 && off[info.count] == static_cast<uint64_t>(bytes.shape[0]), name,
              ": word offsets do not span tensor '", kW2vWordBytes, "' (", off[0], "..",
              off[info.count], " for ", bytes.shape[0], " bytes)");
  BERTC_CHECK(num_tensors == 4, name, ": word2vec file has ", num_tensors, " tensors, expected 4 (",
              kW2vVectors, ", ", kW2vWordOffsets, ", ", kW2vWordBytes, ", ", kW2vHashTable, ")");
}

}  // namespace bertc
