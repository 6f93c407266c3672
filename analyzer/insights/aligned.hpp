// The heap timeline and the metric samples put on one time axis. Sample i covers the interval
// (t_i - interval_i, t_i]; heap buckets (100 ms) are spread over it in proportion to their
// overlap, so every aligned sample carries the heap activity of exactly its own interval.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "analyzer/heap_names.hpp"
#include "analyzer/process_analysis.hpp"

namespace memscope::analyzer::insights {

struct HeapWindow {
  double allocations = 0;  // events within the window (fractional: buckets are pro-rated)
  double frees = 0;
  double allocated_bytes = 0;
  double live_bytes = 0;  // live heap at the window's end (end of the bucket holding it)
};

// Heap activity in (from_ns, to_ns]. Events are taken as spread evenly within a bucket.
HeapWindow heap_in_window(const std::vector<HeapBucket>& buckets, uint64_t bucket_ns,
                          uint64_t from_ns, uint64_t to_ns);

struct AlignedSample {
  uint64_t t_ns = 0;
  uint64_t interval_ns = 0;
  double live_heap_bytes = 0;
  double allocations_per_sec = 0;
  double frees_per_sec = 0;
  std::optional<double> process_cpu_percent;       // application threads, 100 = one core
  std::optional<double> gpu_percent;               // mean compute use of the GPUs that report it
  std::optional<double> process_io_bytes_per_sec;  // storage read + write
  std::optional<double> page_faults_per_sec;       // minor + major, needs the previous sample
  std::optional<double> psi_memory_some_percent;
};

// One entry per sample with a known interval (samples without one are skipped).
std::vector<AlignedSample> align(const ProcessAnalysis& p);

}  // namespace memscope::analyzer::insights
