// See online_heap.hpp.
#include "agent/online_heap.hpp"

#include "agent/agent_memory.hpp"
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

RecordEvents heap_events(uint32_t tid, uint8_t fn, const AllocPayload& a, uint64_t stack_id) {
  RecordEvents out;
  out.events[out.count++] = {EventKind::kAlloc, fn, tid, a.stamp, a.ptr, a.size, stack_id};
  return out;
}

RecordEvents heap_events(uint32_t tid, const FreePayload& f) {
  RecordEvents out;
  out.events[out.count++] = {EventKind::kFree, 0, tid, f.stamp, f.ptr, 0, 0};
  return out;
}

RecordEvents heap_events(uint32_t tid, uint8_t fn, const ReallocPayload& r, uint64_t stack_id) {
  RecordEvents out;
  out.events[out.count++] = {EventKind::kFree, fn, tid, r.stamp, r.old_ptr, 0, 0};
  if (r.ptr != 0)
    out.events[out.count++] = {EventKind::kAlloc, fn, tid, r.stamp_after, r.ptr, r.size, stack_id};
  return out;
}

RecordEvents heap_events(uint32_t tid, const EventRing& ring, uint64_t pos, const RecordHeader& h,
                         uint64_t stack_id) {
  switch (h.type) {
    case RecordType::kAlloc:
      return heap_events(tid, h.fn, ring.read<AllocPayload>(pos), stack_id);
    case RecordType::kFree:
      return heap_events(tid, ring.read<FreePayload>(pos));
    case RecordType::kRealloc:
      return heap_events(tid, h.fn, ring.read<ReallocPayload>(pos), stack_id);
    default:
      return {};
  }
}

// The parent's model is only read: its memory came from the agent allocator on the parent's
// sidecar thread, which does not exist in the child, so the child neither frees nor grows it.
// Its live blocks are copied as they are (a flat table); of the events it still held, only the
// forking thread's (in the tail, copied in the parent before the fork) are applied, to the
// inherited site: what the parent's other threads did in the last few milliseconds is not worth
// copying every held event for in every child (bench/fork_cost).
std::unique_ptr<OnlineHeap> OnlineHeap::inheriting(uint64_t origin_ns, size_t budget_bytes,
                                                   const OnlineHeap& parent,
                                                   const std::vector<HeapEvent>& tail) {
  if (!parent.active_ || budget_bytes == 0) return nullptr;
  auto child = std::make_unique<OnlineHeap>(origin_ns, budget_bytes);
  child->heap_.inherit(parent.heap_);
  for (HeapEvent e : tail) {
    e.stack_id = heap::kInheritedStack;
    e.tid = 0;
    child->heap_.apply(e);
  }
  return child;
}

void OnlineHeap::append_held_of(uint32_t tid, std::vector<HeapEvent>& out) const {
  if (active_) order_.for_each_held_of(tid, [&out](const HeapEvent& e) { out.push_back(e); });
}

// The held events are the parent's alone: a fork child gets the forking thread's copied before
// the fork (append_held_of), so their queue stays out of its copy of memory.
void OnlineHeap::add(const RecordEvents& events) {
  if (!active_) return;
  {
    memory::ScopedUnshared parent_only;
    for (const HeapEvent& e : events) order_.hold(e);
  }
  // Events wait for a watermark; one thread stalled between reserving and publishing a record
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
