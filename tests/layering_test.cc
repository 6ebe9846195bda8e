// The layers of README.md's Layout: every project #include in a layer's sources names its own
// layer or one below it (common < kernels < weights < tokenizer < engine < app < tools). Reads the
// source tree itself, so a new file is checked without being listed anywhere.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>

namespace {

namespace fs = std::filesystem;

const std::map<std::string, int> kRank = {{"common", 0}, {"kernels", 1}, {"weights", 2},
                                          {"tokenizer", 3}, {"engine", 4}, {"app", 5},
                                          {"tools", 6}};

TEST(Layering, IncludesPointDown) {
  const fs::path root = fs::path(BERTC_SOURCE_DIR);
  const std::regex include(R"re(^\s*#\s*include\s*"([a-z_]+)/[^"]+")re");
  int files = 0;
  for (const auto& [layer, rank] : kRank) {
    for (const auto& entry : fs::recursive_directory_iterator(root / layer)) {
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".h" && ext != ".cc" && ext != ".cu" && ext != ".cuh"))
        continue;
      ++files;
      std::ifstream in(entry.path());
      int lineno = 0;
      for (std::string line; std::getline(in, line);) {
        ++lineno;
        std::smatch m;
        if (!std::regex_search(line, m, include)) continue;
        const auto it = kRank.find(m[1].str());
        if (it == kRank.end()) continue;  // not a layer (e.g. a system path with a slash)
        EXPECT_LE(it->second, rank)
            << fs::relative(entry.path(), root).string() << ":" << lineno << ": " << layer
            << " includes " << it->first << ", a layer above it: " << line;
      }
    }
  }
  EXPECT_GT(files, 50) << "the source tree was not found at " << root;
}

}  // namespace
