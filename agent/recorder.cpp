// See recorder.hpp.
#include "agent/recorder.hpp"

#include <time.h>

#include <algorithm>
#include <cstring>

#include "agent/agent_state.hpp"
#include "agent/clock.hpp"
#include "agent/config.hpp"
#include "agent/sidecar_gate.hpp"
#include "agent/stack_capture.hpp"
#include "agent/thread_mode.hpp"

namespace memscope::agent {
namespace {

uint32_t continuation_slots(uint32_t depth) {
  return (depth + kFramesPerContinuation - 1) / kFramesPerContinuation;
}

// Waits, asleep, for the sidecar to free [pos, pos + n), counting the wait. Announcing the
// waiter before the last look at the ring pairs with the sidecar's fence between freeing room
// and looking for waiters (drain in sidecar.cpp): one of the two always sees the other.
void wait_for_room(ThreadState* ts, uint64_t pos, uint32_t n) {
  if (ts->ring.has_room_for(pos, n)) return;
  uint64_t started = now_ns();
  ts->ring_waits.fetch_add(1, std::memory_order_relaxed);
  while (!ts->ring.has_room_for(pos, n)) {
    uint32_t seen = ts->room_epoch.load();
    ts->room_waiters.fetch_add(1);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!ts->ring.has_room_for(pos, n)) {
      wake_sidecar();
      wait_for_ring_room(ts->room_epoch, seen);
    }
    ts->room_waiters.fetch_sub(1);
  }
  ts->ring_wait_ns.fetch_add(now_ns() - started, std::memory_order_relaxed);
}

void write_stack(ThreadState* ts, uint64_t pos, const CapturedStack& stack) {
  uint32_t extra = continuation_slots(stack.depth);
  for (uint32_t c = 0; c < extra; ++c) {
    auto& cont = reinterpret_cast<ContinuationSlot&>(ts->ring.at(pos + 1 + c));
    cont.zero_tag = 0;
    uint32_t first = c * kFramesPerContinuation;
    uint32_t count = std::min(kFramesPerContinuation, stack.depth - first);
    std::memcpy(cont.frames, stack.frames + first, count * sizeof(uint64_t));
  }
  Slot& s = ts->ring.at(pos);
  s.type = SlotType::kStack;
  s.extra_slots = static_cast<uint16_t>(extra);
  s.frame_count = stack.depth;
  s.stack_hash = stack.hash;
  ts->ring.publish(pos);
}

// Reserves room for one event record, preceded by the stack record when this thread has not
// sent that stack yet. Returns the event's position, or false when the event is dropped.
bool reserve_event(ThreadState* ts, const CapturedStack& stack, uint64_t& event_pos) {
  uint32_t generation = g_trace_generation.load(std::memory_order_relaxed);
  if (ts->stack_cache_generation != generation) {  // a new trace knows none of our stacks
    std::memset(ts->stack_cache, 0, sizeof(ts->stack_cache));
    ts->stack_cache_generation = generation;
  }
  bool send_stack = stack.hash != 0 && !stack_already_sent(ts, stack.hash);
  uint32_t stack_slots = send_stack ? 1 + continuation_slots(stack.depth) : 0;
  uint32_t n = stack_slots + 1;
  // Without a running sidecar (before it starts) nobody would make room: drop instead of waiting.
  if (g_config.drop_when_full || !g_sidecar_running.load(std::memory_order_acquire)) {
    uint64_t next = ts->ring.reserved();
    if (!ts->ring.has_room_for(next, n)) {
      ts->dropped_events.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  }
  uint64_t pos = ts->ring.reserve(n);
  wait_for_room(ts, pos, n);
  if (send_stack) {
    write_stack(ts, pos, stack);
    mark_stack_sent(ts, stack.hash);
  }
  event_pos = pos + stack_slots;
  return true;
}

ThreadState* recording_thread() {
  if (!recording_here()) return nullptr;
  return this_thread_state();
}

}  // namespace

bool recording_here() {
  return t_mode == ThreadMode::kApplication && g_recording.load(std::memory_order_relaxed);
}

void record_alloc(format::AllocFn fn, const void* ptr, size_t size) {
  ThreadState* ts = recording_thread();
  if (ts == nullptr) return;
  CapturedStack stack;
  capture_stack(stack);
  uint64_t pos;
  if (!reserve_event(ts, stack, pos)) return;
  Slot& s = ts->ring.at(pos);
  s.type = SlotType::kAlloc;
  s.fn = static_cast<uint8_t>(fn);
  s.extra_slots = 0;
  s.stamp = now_ns();
  s.ptr = reinterpret_cast<uint64_t>(ptr);
  s.size = size;
  s.stack_hash = stack.hash;
  ts->ring.publish(pos);
}

void record_free(const void* ptr) {
  ThreadState* ts = recording_thread();
  if (ts == nullptr) return;
  CapturedStack no_stack;
  uint64_t pos;
  if (!reserve_event(ts, no_stack, pos)) return;
  Slot& s = ts->ring.at(pos);
  s.type = SlotType::kFree;
  s.extra_slots = 0;
  s.stamp = now_ns();
  s.ptr = reinterpret_cast<uint64_t>(ptr);
  ts->ring.publish(pos);
}

uint64_t record_region_marker(uint64_t region_id, bool begin) {
  if (t_mode != ThreadMode::kApplication) return now_ns();
  ThreadState* ts = this_thread_state();
  if (ts == nullptr) return now_ns();
  CapturedStack no_stack;
  uint64_t pos;
  if (!reserve_event(ts, no_stack, pos)) return now_ns();
  Slot& s = ts->ring.at(pos);
  s.type = SlotType::kRegion;
  s.fn = begin ? 1 : 0;
  s.extra_slots = 0;
  s.stamp = now_ns();
  s.size = region_id;
  ts->ring.publish(pos);
  return s.stamp;
}

PendingRealloc begin_realloc(format::AllocFn fn, const void* old_ptr, size_t size) {
  ThreadState* ts = recording_thread();
  if (ts == nullptr) return {};
  CapturedStack stack;
  capture_stack(stack);
  uint64_t pos;
  if (!reserve_event(ts, stack, pos)) return {};
  Slot& s = ts->ring.at(pos);
  s.type = SlotType::kRealloc;
  s.fn = static_cast<uint8_t>(fn);
  s.extra_slots = 0;
  s.stamp = now_ns();
  s.old_ptr = reinterpret_cast<uint64_t>(old_ptr);
  s.size = size;
  s.stack_hash = stack.hash;
  return {ts, pos};
}

void finish_realloc(const PendingRealloc& pending, const void* new_ptr) {
  if (pending.ts == nullptr) return;
  Slot& s = pending.ts->ring.at(pending.pos);
  s.stamp_after = now_ns();
  s.ptr = reinterpret_cast<uint64_t>(new_ptr);
  // A failed realloc (null for a non-zero size) left the old block alone: nothing happened.
  if (new_ptr == nullptr && s.size != 0) s.type = SlotType::kNop;
  pending.ts->ring.publish(pending.pos);
}

}  // namespace memscope::agent
