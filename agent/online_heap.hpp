// The heap replayed inside the traced process while the sidecar writes its events: the heap
// model memscope-analyze runs (heap/), fed the very events the trace gets, in the order the
// watermarks release them. Its summary, written once when the process ends, spares the
// analysis a replay of every event. Past its memory budget (MEMSCOPE_HEAP_SUMMARY_MB) it gives
// up and frees what it held; the analysis then replays the events, to the same figures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "agent/event_ring.hpp"
#include "heap/heap_model.hpp"
#include "heap/heap_timeline.hpp"
#include "heap/stamp_order.hpp"

namespace memscope::agent {

class OnlineHeap {
 public:
  OnlineHeap(uint64_t origin_ns, size_t budget_bytes);
  bool active() const { return active_; }
  // An allocation, free or realloc slot of thread `tid`, as the trace records it.
  void add(uint32_t tid, const Slot& s, uint64_t stack_id);
  // The sidecar wrote this watermark: replays what it releases.
  void release_before(uint64_t watermark);
  // Replays everything still held; the model then holds the blocks live at the end (null when
  // it gave up).
  const heap::HeapModel* settle();
  // Replays everything still held and appends the summary body; false when it gave up.
  bool finish(std::vector<uint8_t>& body);

 private:
  void give_up();

  size_t budget_bytes_;
  size_t max_held_;  // events waiting for a watermark: a quarter of the budget
  bool active_ = true;
  uint64_t events_ = 0;
  heap::StampOrder order_;
  heap::HeapModel heap_;
  heap::HeapTimeline timeline_;
};

}  // namespace memscope::agent
