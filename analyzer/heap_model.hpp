// The heap of one process replayed from its events in stamp order: live blocks, totals, peak,
// leaks, and per-thread and per-site counts. Counting follows valgrind's DHAT: every block
// handed out is an allocation (a successful realloc hands out a new one and releases the old),
// leaked means still live at the end.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>

#include "analyzer/trace_reader.hpp"

namespace memscope::analyzer {

struct HeapTotals {
  uint64_t allocations = 0;
  uint64_t frees = 0;
  uint64_t allocated_bytes = 0;
  uint64_t live_allocations = 0;
  uint64_t live_bytes = 0;
  uint64_t peak_bytes = 0;
  uint64_t peak_allocations = 0;  // live blocks at the moment of the peak
  uint64_t peak_stamp = 0;
  uint64_t unmatched_frees = 0;  // frees of blocks the trace never saw allocated
};

struct Counters {
  uint64_t allocations = 0;
  uint64_t frees = 0;
  uint64_t allocated_bytes = 0;
  uint64_t freed_bytes = 0;
};

// Stack id of blocks a fork child inherited (their stacks live in the parent's trace).
inline constexpr uint64_t kInheritedStack = UINT64_MAX;

struct LiveBlock {
  uint64_t size;
  uint64_t stack_id;
  uint32_t tid;
};

class HeapModel {
 public:
  // Returns the bytes of the block allocated or released (0 for an unmatched free).
  uint64_t apply(const HeapEvent& e);
  // A fork child starts from its parent's heap at the fork: those blocks are live (and leak if
  // never freed) but were not allocated by the child.
  void inherit(const HeapModel& parent);

  const HeapTotals& totals() const { return totals_; }
  const std::unordered_map<uint64_t, LiveBlock>& live() const { return live_; }
  const std::map<uint32_t, Counters>& per_thread() const { return per_thread_; }
  const std::unordered_map<uint64_t, Counters>& per_site() const { return per_site_; }

 private:
  std::unordered_map<uint64_t, LiveBlock> live_;
  HeapTotals totals_;
  std::map<uint32_t, Counters> per_thread_;
  std::unordered_map<uint64_t, Counters> per_site_;
};

}  // namespace memscope::analyzer
