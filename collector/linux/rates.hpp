// Rates from cumulative kernel counters. A counter that went backwards (a wrapped or reset
// counter, a device that was replaced) counts as no change rather than as a huge jump.
#pragma once

#include <cstdint>
#include <optional>

namespace memscope::collector {

inline uint64_t counter_delta(uint64_t previous, uint64_t current) {
  return current > previous ? current - previous : 0;
}

// Per second; empty without an interval (the baseline reading).
inline std::optional<double> per_second(uint64_t previous, uint64_t current, uint64_t interval_ns) {
  if (interval_ns == 0) return std::nullopt;
  return static_cast<double>(counter_delta(previous, current)) * 1e9 /
         static_cast<double>(interval_ns);
}

}  // namespace memscope::collector
