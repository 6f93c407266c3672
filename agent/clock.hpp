// The one clock every event is stamped with: CLOCK_MONOTONIC through the vDSO, monotonic across
// cores, so stamps from different threads order correctly (see docs/trace-format.md).
#pragma once

#include <time.h>

#include <cstdint>

namespace memscope::agent {

inline uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace memscope::agent
