// What a fork child's heap model starts from, so that its leak scan at exit knows the blocks it
// inherited: the parent's model, which the fork copied while the parent's sidecar was parked at
// a safe point (sidecar_gate.hpp), and the forking thread's events the model still held or the
// sidecar had not drained yet (the child's copy of every ring, and of the model's queue of held
// events, is wiped by the fork). Events other threads of the parent
// had not yet released into the model are not in it: their blocks, made in the last few
// milliseconds before the fork, are unknown to the child's scan (docs/analysis.md, "Leak kinds").
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "agent/online_heap.hpp"
#include "heap/heap_event.hpp"

namespace memscope::agent {

// The forking thread (its tid in the parent's trace) and its events the parent's model had not
// applied yet: those it held, then those the sidecar had not drained.
struct ForkTail {
  uint32_t tid = 0;
  std::vector<heap::HeapEvent> events;
};

// In the parent, between holding the sidecar and fork(): the calling thread's events not in the
// model yet (none unless the sidecar is parked, when nothing else reads or moves them).
ForkTail forking_thread_tail();
// In the child, on the forking thread: keeps the parent's model (null: none was safe to keep)
// and the tail for the child's sidecar.
void keep_inheritance(std::unique_ptr<OnlineHeap> parent_model, ForkTail tail);
// On the child's sidecar: its model, inheriting the parent's blocks; null when there is none.
std::unique_ptr<OnlineHeap> take_inherited_heap(uint64_t origin_ns, size_t budget_bytes);

}  // namespace memscope::agent
