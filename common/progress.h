// A one-line progress bar on stderr, redrawn in place; silent unless stderr is a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace bertc {

class Progress {
 public:
  // Shown only when `enabled`, stderr is a terminal and `total` exceeds a screenful of lines.
  Progress(std::string label, int64_t total, bool enabled);
  ~Progress();  // finish()
  void update(int64_t done);
  // Ends the bar's line (once), so what is printed next starts on a line of its own.
  void finish();

 private:
  std::string label_;
  int64_t total_ = 0;
  bool shown_ = false;  // enabled, on a terminal
  bool drawn_ = false;  // a bar is on the current line
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace bertc
