// The heap replayed inside the traced process while the sidecar writes its events: the heap
// model memscope-analyze runs (heap/), fed the very events the trace gets, in the order the
// watermarks release them. Its summary, written once when the process ends, spares the
// analysis a replay of every event. Past its memory budget (MEMSCOPE_HEAP_SUMMARY_MB) it gives
// up and frees what it held; the analysis then replays the events, to the same figures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "agent/event_ring.hpp"
#include "heap/heap_model.hpp"
#include "heap/heap_timeline.hpp"
#include "heap/stamp_order.hpp"

namespace memscope::agent {

// The heap events of one ring record, field for field as the analyzer's decoder makes them of
// the trace records the sidecar writes for it (analyzer/trace_reader.cpp): none, one, or two
// (a realloc).
struct RecordEvents {
  heap::HeapEvent events[2];
  uint8_t count = 0;
  const heap::HeapEvent* begin() const { return events; }
  const heap::HeapEvent* end() const { return events + count; }
};
RecordEvents heap_events(uint32_t tid, uint8_t fn, const AllocPayload& a, uint64_t stack_id);
RecordEvents heap_events(uint32_t tid, const FreePayload& f);
RecordEvents heap_events(uint32_t tid, uint8_t fn, const ReallocPayload& r, uint64_t stack_id);
// Of the published record at `pos` of `ring`, whatever its kind (none for all but the three
// above).
RecordEvents heap_events(uint32_t tid, const EventRing& ring, uint64_t pos, const RecordHeader& h,
                         uint64_t stack_id);

class OnlineHeap {
 public:
  OnlineHeap(uint64_t origin_ns, size_t budget_bytes);
  // A fork child's model: the blocks live in `parent` (the parent's model as the fork copied
  // it, with `tail`: the forking thread's events it still held and those not drained yet) as
  // inherited blocks, as the analyzer's fork snapshot has them. Null when the parent's model had
  // given up. Of `parent`, only the model proper is read: its held events are not in the
  // child's memory (add()).
  static std::unique_ptr<OnlineHeap> inheriting(uint64_t origin_ns, size_t budget_bytes,
                                                const OnlineHeap& parent,
                                                const std::vector<heap::HeapEvent>& tail);
  // In the parent before a fork: appends thread `tid`'s held events, in stamp order.
  void append_held_of(uint32_t tid, std::vector<heap::HeapEvent>& out) const;
  bool active() const { return active_; }
  // An allocation, free or realloc record's events (heap_events), as the trace records them.
  void add(const RecordEvents& events);
  // The sidecar wrote this watermark: replays what it releases.
  void release_before(uint64_t watermark);
  // Replays everything still held; the model then holds the blocks live at the end (null when
  // it gave up).
  const heap::HeapModel* settle();
  // Replays everything still held and appends the summary body; false when it gave up.
  bool finish(std::vector<uint8_t>& body);

 private:
  bool room_to_grow() const;
  void give_up();

  size_t budget_bytes_;
  bool active_ = true;
  uint64_t events_ = 0;
  heap::StampOrder order_;
  heap::HeapModel heap_;
  heap::HeapTimeline timeline_;
};

}  // namespace memscope::agent
