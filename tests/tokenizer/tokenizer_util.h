// Shared helpers for the tokenizer tests: the bert-base-uncased tokenizer, JSONL fixtures, and an
// aligned expected/got diff for failure messages.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

namespace bertc::testing {

inline std::string tokenizer_data(const std::string& name) {
  return std::string(BERTC_TEST_DATA) + "/tokenizer/" + name;
}

// tests/data/models/tiny-st/model/vocab.txt is the bert-base-uncased vocabulary.
inline std::string uncased_vocab_path() {
  return std::string(BERTC_TEST_DATA) + "/models/tiny-st/model/vocab.txt";
}

inline const Vocab& uncased_vocab() {
  static const Vocab vocab = Vocab::from_file(uncased_vocab_path());
  return vocab;
}

inline Tokenizer make_tokenizer(TokenizerOptions options = {}) {
  return Tokenizer(Vocab::from_file(uncased_vocab_path()), std::move(options));
}

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::vector<nlohmann::json> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  }
  return rows;
}

inline std::vector<std::string> token_strings(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  std::vector<std::string> out;
  for (int32_t id : ids) out.push_back(tok.vocab().token(id));
  return out;
}

// Two columns, one row per position, "!" marking the rows that differ.
template <typename T>
std::string aligned_diff(const std::vector<T>& want, const std::vector<T>& got) {
  std::ostringstream out;
  out << "      expected             got\n";
  const size_t n = std::max(want.size(), got.size());
  for (size_t i = 0; i < n; ++i) {
    std::ostringstream w, g;
    if (i < want.size()) w << want[i];
    if (i < got.size()) g << got[i];
    const bool same = i < want.size() && i < got.size() && want[i] == got[i];
    out << (same ? "  " : "! ") << std::setw(4) << i << " " << std::left << std::setw(20) << w.str()
        << " " << g.str() << std::right << "\n";
  }
  return out.str();
}

}  // namespace bertc::testing
