// The heap summary: the figures of a finished heap replay (totals, sites, threads, timeline) as
// the body of one kHeapSummary trace record. The sidecar replays the heap while it writes the
// events and stores the result at the process's end; memscope-analyze then reads these figures
// instead of replaying every event again (docs/trace-format.md, "Heap summary").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "heap/heap_model.hpp"
#include "heap/heap_timeline.hpp"

namespace memscope::heap {

inline constexpr uint64_t kHeapSummaryVersion = 1;

struct HeapSummary {
  uint64_t events = 0;  // heap events replayed into it
  HeapModel heap;
  HeapTimeline timeline;
};

// Appends the summary of `heap` and `timeline` after `events` replayed events to `out`.
void encode_heap_summary(const HeapModel& heap, const HeapTimeline& timeline, uint64_t events,
                         std::vector<uint8_t>& out);
// Nothing when the body is malformed or of a version this reader does not know.
std::optional<HeapSummary> decode_heap_summary(const uint8_t* data, size_t size);

}  // namespace memscope::heap
