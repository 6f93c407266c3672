// See online_heap.hpp.
#include "agent/online_heap.hpp"

#include "agent/messages.hpp"
#include "heap/heap_summary.hpp"
#include "heap/lookahead.hpp"

namespace memscope::agent {

using heap::EventKind;
using heap::HeapEvent;

OnlineHeap::OnlineHeap(uint64_t origin_ns, size_t budget_bytes) : budget_bytes_(budget_bytes) {
  timeline_.set_origin(origin_ns);
  active_ = budget_bytes > 0;
}

SlotEvents slot_events(uint32_t tid, const Slot& s, uint64_t stack_id) {
  SlotEvents out;
  switch (s.type) {
    case SlotType::kAlloc:
      out.events[out.count++] = {EventKind::kAlloc, s.fn, tid, s.stamp, s.ptr, s.size, stack_id};
      break;
    case SlotType::kFree:
      out.events[out.count++] = {EventKind::kFree, 0, tid, s.stamp, s.ptr, 0, 0};
      break;
    case SlotType::kRealloc:
      out.events[out.count++] = {EventKind::kFree, s.fn, tid, s.stamp, s.old_ptr, 0, 0};
      if (s.ptr != 0)
        out.events[out.count++] = {EventKind::kAlloc, s.fn, tid, s.stamp_after, s.ptr, s.size,
                                   stack_id};
      break;
    default:
      break;
  }
  return out;
}

// The parent's model is only read: its memory came from the agent allocator on the parent's
// sidecar thread, which does not exist in the child, so the child neither frees nor grows it.
// Its live blocks are copied as they are (a flat table); of the events it still held, only the
// forking thread's are applied, then the tail, all to the inherited site: what the parent's other
// threads did in the last few milliseconds is not worth copying every held event for in every
// child (bench/fork_cost).
std::unique_ptr<OnlineHeap> OnlineHeap::inheriting(uint64_t origin_ns, size_t budget_bytes,
                                                   const OnlineHeap& parent, uint32_t forking_tid,
                                                   const std::vector<HeapEvent>& tail) {
  if (!parent.active_ || budget_bytes == 0) return nullptr;
  auto child = std::make_unique<OnlineHeap>(origin_ns, budget_bytes);
  child->heap_.inherit(parent.heap_);
  auto apply = [&](HeapEvent e) {
    e.stack_id = heap::kInheritedStack;
    e.tid = 0;
    child->heap_.apply(e);
  };
  parent.order_.for_each_held_of(forking_tid, apply);
  for (const HeapEvent& e : tail) apply(e);
  return child;
}

void OnlineHeap::add(uint32_t tid, const Slot& s, uint64_t stack_id) {
  if (!active_) return;
  for (const HeapEvent& e : slot_events(tid, s, stack_id)) order_.hold(e);
  // Events wait for a watermark; one thread stalled between reserving and publishing a slot
  // (descheduled on a loaded machine) holds the watermark back while the others go on, at
  // millions of events a second. The events held may use what the model leaves of the budget:
  // checked when their queue is full, before it doubles.
  if (order_.held() == order_.capacity() && !room_to_grow()) give_up();
}

bool OnlineHeap::room_to_grow() const {
  return heap_.memory_bytes() + 2 * order_.capacity() * sizeof(HeapEvent) <= budget_bytes_;
}

void OnlineHeap::release_before(uint64_t watermark) {
  if (!active_) return;
  auto apply = [this](const HeapEvent& e) {
    uint64_t bytes = heap_.apply(e);  // before live_bytes is read
    timeline_.record(e, bytes, heap_.totals().live_bytes);
    ++events_;
  };
  heap::Lookahead late(heap_.live(), apply);
  order_.release_before(watermark, late);
  late.finish();
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
