// See fork_inheritance.hpp.
#include "agent/fork_inheritance.hpp"

#include "agent/sidecar.hpp"
#include "agent/sidecar_gate.hpp"
#include "agent/thread_registry.hpp"

namespace memscope::agent {
namespace {

// Set on the forking thread before the child's sidecar starts, taken by that sidecar. Plain
// pointers, never destroyed: a child that exits at once runs the static destructors while its
// sidecar may still be reading them.
OnlineHeap* g_parent_model = nullptr;
ForkTail* g_tail = nullptr;

}  // namespace

ForkTail forking_thread_tail() {
  ForkTail tail;
  ThreadState* ts = this_thread_state();
  if (ts == nullptr || !sidecar_parked()) return tail;
  tail.tid = static_cast<uint32_t>(ts->tid);
  // First the events the model holds (their queue is not in the child's memory), then the ring's.
  if (const OnlineHeap* model = parked_sidecar_model())
    model->append_held_of(tail.tid, tail.events);
  EventRing& ring = ts->ring;
  RecordHeader header;
  for (uint64_t pos = ring.head(); ring.published(pos, header); pos += header.words)
    for (const heap::HeapEvent& e : heap_events(tail.tid, ring, pos, header, 0))
      tail.events.push_back(e);
  return tail;
}

void keep_inheritance(std::unique_ptr<OnlineHeap> parent_model, ForkTail tail) {
  if (!parent_model) return;
  g_tail = new ForkTail(std::move(tail));
  g_parent_model = parent_model.release();
}

// The parent's model is left as the fork copied it (OnlineHeap::inheriting says why): shared
// with the parent until written, it costs the child nothing.
std::unique_ptr<OnlineHeap> take_inherited_heap(uint64_t origin_ns, size_t budget_bytes) {
  if (g_parent_model == nullptr) return nullptr;
  auto child = OnlineHeap::inheriting(origin_ns, budget_bytes, *g_parent_model, g_tail->events);
  g_parent_model = nullptr;
  delete g_tail;
  g_tail = nullptr;
  return child;
}

}  // namespace memscope::agent
