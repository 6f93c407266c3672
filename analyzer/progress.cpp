// See progress.hpp.
#include "analyzer/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace memscope::analyzer {

namespace {
constexpr auto kQuietFor = std::chrono::seconds(1);            // shorter work shows nothing
constexpr auto kRedrawEvery = std::chrono::milliseconds(100);  // no flicker, little cost
}  // namespace

Progress::Progress(std::string label, uint64_t total)
    : label_(std::move(label)), total_(total), terminal_(isatty(STDERR_FILENO) == 1) {}

Progress::~Progress() {
  if (shown_) std::fputs("\r\033[K", stderr);
}

void Progress::update(uint64_t done) {
  if (!terminal_ || total_ == 0) return;
  Clock::time_point now = Clock::now();
  if (now - start_ < kQuietFor || (shown_ && now - last_ < kRedrawEvery)) return;
  last_ = now;
  shown_ = true;
  unsigned percent = static_cast<unsigned>(100 * std::min(done, total_) / total_);
  std::fprintf(stderr, "\r\033[K%s %3u%%", label_.c_str(), percent);
  std::fflush(stderr);
}

}  // namespace memscope::analyzer
