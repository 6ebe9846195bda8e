// Progress bar: redraws at most 10 times a second so it costs nothing next to the model.
#include "common/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>

namespace bertc {
namespace {

int terminal_rows() {
  winsize ws{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) return ws.ws_row;
  return 24;
}

}  // namespace

Progress::Progress(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)), total_(total), start_(std::chrono::steady_clock::now()) {
  shown_ = enabled && isatty(STDERR_FILENO) && total > terminal_rows();
}

Progress::~Progress() { finish(); }

void Progress::finish() {
  if (drawn_) std::fputc('\n', stderr);
  shown_ = drawn_ = false;
}

void Progress::update(int64_t done) {
  if (!shown_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 30;
  const int filled = total_ ? static_cast<int>(kWidth * done / total_) : kWidth;
  const double secs = std::chrono::duration<double>(now - start_).count();
  std::fprintf(stderr, "\r%s [%.*s%*s] %lld/%lld  %.1fs", label_.c_str(), filled,
               "##############################", kWidth - filled, "",
               static_cast<long long>(done), static_cast<long long>(total_), secs);
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace bertc
