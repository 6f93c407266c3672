// See online_heap.hpp.
#include "agent/online_heap.hpp"

#include "agent/messages.hpp"
#include "heap/heap_summary.hpp"

namespace memscope::agent {

using heap::EventKind;
using heap::HeapEvent;

OnlineHeap::OnlineHeap(uint64_t origin_ns, size_t budget_bytes)
    : budget_bytes_(budget_bytes), max_held_(budget_bytes / 4 / sizeof(HeapEvent)) {
  timeline_.set_origin(origin_ns);
  active_ = budget_bytes > 0;
}

// The same events, field for field, as the analyzer's decoder makes of the records the sidecar
// writes for this slot (analyzer/trace_reader.cpp).
void OnlineHeap::add(uint32_t tid, const Slot& s, uint64_t stack_id) {
  if (!active_) return;
  switch (s.type) {
    case SlotType::kAlloc:
      order_.hold({EventKind::kAlloc, s.fn, tid, s.stamp, s.ptr, s.size, stack_id});
      break;
    case SlotType::kFree:
      order_.hold({EventKind::kFree, 0, tid, s.stamp, s.ptr, 0, 0});
      break;
    case SlotType::kRealloc:
      order_.hold({EventKind::kFree, s.fn, tid, s.stamp, s.old_ptr, 0, 0});
      if (s.ptr != 0)
        order_.hold({EventKind::kAlloc, s.fn, tid, s.stamp_after, s.ptr, s.size, stack_id});
      break;
    default:
      return;
  }
  // Events wait for a watermark; one thread stalled between reserving and publishing a slot
  // (descheduled on a loaded machine) holds the watermark back while the others go on.
  if (order_.held() > max_held_) give_up();
}

void OnlineHeap::release_before(uint64_t watermark) {
  if (!active_) return;
  order_.release_before(watermark, [this](const HeapEvent& e) {
    uint64_t bytes = heap_.apply(e);  // before live_bytes is read
    timeline_.record(e, bytes, heap_.totals().live_bytes);
    ++events_;
  });
  if (heap_.memory_bytes() + order_.capacity() * sizeof(HeapEvent) > budget_bytes_) give_up();
}

void OnlineHeap::give_up() {
  active_ = false;
  tell_user(
      {"the heap model outgrew MEMSCOPE_HEAP_SUMMARY_MB; memscope-analyze will replay "
       "the events instead (slower, the same figures)"});
  order_ = heap::StampOrder();
  heap_ = heap::HeapModel();
  timeline_ = heap::HeapTimeline();
}

const heap::HeapModel* OnlineHeap::settle() {
  release_before(UINT64_MAX);
  return active_ ? &heap_ : nullptr;
}

bool OnlineHeap::finish(std::vector<uint8_t>& body) {
  release_before(UINT64_MAX);
  if (!active_) return false;
  heap::encode_heap_summary(heap_, timeline_, events_, body);
  return true;
}

}  // namespace memscope::agent
