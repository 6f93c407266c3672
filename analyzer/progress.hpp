// A progress line on stderr for long work: shown only when stderr is a terminal and the work has
// already taken more than a second, so quick runs, pipes, logs and tests never see it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace memscope::analyzer {

class Progress {
 public:
  // `label` says what is being done; `total` is the amount of work (bytes, say).
  Progress(std::string label, uint64_t total);
  ~Progress();  // erases the line if it was shown
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void update(uint64_t done);

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_;
  uint64_t total_;
  bool terminal_;
  bool shown_ = false;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_ = start_;
};

}  // namespace memscope::analyzer
