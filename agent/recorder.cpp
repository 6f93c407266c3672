// See recorder.hpp.
#include "agent/recorder.hpp"

#include <algorithm>
#include <cstring>

#include "agent/agent_state.hpp"
#include "agent/clock.hpp"
#include "agent/config.hpp"
#include "agent/sampler.hpp"
#include "agent/stack_capture.hpp"
#include "agent/thread_mode.hpp"

namespace memscope::agent {
namespace {

uint32_t continuation_slots(uint32_t depth) {
  return (depth + kFramesPerContinuation - 1) / kFramesPerContinuation;
}

void write_stack(EventRing& ring, uint64_t pos, const CapturedStack& stack) {
  uint32_t extra = continuation_slots(stack.depth);
  for (uint32_t c = 0; c < extra; ++c) {
    auto& cont = reinterpret_cast<ContinuationSlot&>(ring.at(pos + 1 + c));
    cont.zero_tag = 0;
    uint32_t first = c * kFramesPerContinuation;
    uint32_t count = std::min(kFramesPerContinuation, stack.depth - first);
    std::memcpy(cont.frames, stack.frames + first, count * sizeof(uint64_t));
  }
  Slot& s = ring.at(pos);
  s.type = SlotType::kStack;
  s.extra_slots = static_cast<uint16_t>(extra);
  s.frame_count = stack.depth;
  s.stack_hash = stack.hash;
  ring.publish(pos);
}

// Claims room for one event record, preceded by the stack record when this thread has not sent
// that stack yet. Returns the event's position, or false when the event is dropped.
bool reserve_event(ThreadState* ts, const CapturedStack& stack, Claim& claim, uint64_t& event_pos) {
  int level = next_claim_level();
  uint32_t generation = g_trace_generation.load(std::memory_order_relaxed);
  if (ts->stack_cache_generation[level] != generation) {  // a new trace knows none of our stacks
    std::memset(ts->stack_cache[level], 0, sizeof(ts->stack_cache[level]));
    ts->stack_cache_generation[level] = generation;
  }
  bool send_stack = stack.hash != 0 && !stack_already_sent(ts, level, stack.hash);
  uint32_t stack_slots = send_stack ? 1 + continuation_slots(stack.depth) : 0;
  if (!begin_claim(ts, stack_slots + 1, true, claim)) return false;
  if (send_stack) {
    write_stack(*claim.ring, claim.pos, stack);
    mark_stack_sent(ts, level, stack.hash);
  }
  event_pos = claim.pos + stack_slots;
  return true;
}

// Publishes the claim's event record and ends the claim.
void publish_event(const Claim& claim, uint64_t event_pos) {
  claim.ring->publish(event_pos);
  end_claim(claim);
}

ThreadState* recording_thread() {
  if (!recording_here()) return nullptr;
  return this_thread_state();
}

}  // namespace

void write_alloc(format::AllocFn fn, const void* ptr, size_t size) {
  ThreadState* ts = recording_thread();
  if (ts == nullptr) return;
  CapturedStack stack;
  capture_stack(stack);
  Claim claim;
  uint64_t pos;
  if (!reserve_event(ts, stack, claim, pos)) return;
  Slot& s = claim.ring->at(pos);
  s.type = SlotType::kAlloc;
  s.fn = static_cast<uint8_t>(fn);
  s.extra_slots = 0;
  s.stamp = now_ns();
  s.ptr = reinterpret_cast<uint64_t>(ptr);
  s.size = size;
  s.stack_hash = stack.hash;
  publish_event(claim, pos);
}

// Claims and stamps a free record, which the caller publishes. Null when nothing is claimed.
ThreadState* open_free(const void* ptr, Claim& claim, uint64_t& pos) {
  ThreadState* ts = recording_thread();
  if (ts == nullptr) return nullptr;
  CapturedStack no_stack;
  if (!reserve_event(ts, no_stack, claim, pos)) return nullptr;
  Slot& s = claim.ring->at(pos);
  s.type = SlotType::kFree;
  s.extra_slots = 0;
  s.stamp = now_ns();
  s.ptr = reinterpret_cast<uint64_t>(ptr);
  return ts;
}

void write_free(const void* ptr) {
  Claim claim;
  uint64_t pos;
  if (open_free(ptr, claim, pos) != nullptr) publish_event(claim, pos);
}

uint64_t record_region_marker(uint64_t region_id, bool begin) {
  if (t_mode != ThreadMode::kApplication) return now_ns();
  ThreadState* ts = this_thread_state();
  if (ts == nullptr) return now_ns();
  CapturedStack no_stack;
  Claim claim;
  uint64_t pos;
  if (!reserve_event(ts, no_stack, claim, pos)) return now_ns();
  Slot& s = claim.ring->at(pos);
  s.type = SlotType::kRegion;
  s.fn = begin ? 1 : 0;
  s.extra_slots = 0;
  s.stamp = now_ns();
  s.size = region_id;
  uint64_t stamp = s.stamp;
  publish_event(claim, pos);
  return stamp;
}

PendingRealloc begin_realloc(format::AllocFn fn, const void* old_ptr, size_t size) {
  PendingRealloc pending;
  pending.old_ptr = old_ptr;
  pending.size = size;
  pending.sampling = keep_realloc(old_ptr, size);
  if (!pending.sampling.new_sampled) {
    if (pending.sampling.old_sampled) pending.ts = open_free(old_ptr, pending.claim, pending.pos);
    return pending;
  }
  ThreadState* ts = recording_thread();
  if (ts == nullptr) return pending;
  CapturedStack stack;
  capture_stack(stack);
  if (!reserve_event(ts, stack, pending.claim, pending.pos)) return pending;
  Slot& s = pending.claim.ring->at(pending.pos);
  s.type = SlotType::kRealloc;
  s.fn = static_cast<uint8_t>(fn);
  s.extra_slots = 0;
  s.stamp = now_ns();
  s.old_ptr = reinterpret_cast<uint64_t>(old_ptr);
  s.size = size;
  s.stack_hash = stack.hash;
  pending.ts = ts;
  return pending;
}

void finish_realloc(const PendingRealloc& pending, const void* new_ptr) {
  settle_realloc(pending.old_ptr, pending.size, pending.sampling, new_ptr);
  if (pending.ts == nullptr) return;
  // A failed realloc (null for a non-zero size) left the old block alone: nothing happened.
  bool failed = new_ptr == nullptr && pending.size != 0;
  Slot& s = pending.claim.ring->at(pending.pos);
  if (s.type == SlotType::kRealloc) {
    s.stamp_after = now_ns();
    s.ptr = reinterpret_cast<uint64_t>(new_ptr);
  }
  if (failed) s.type = SlotType::kNop;
  publish_event(pending.claim, pending.pos);
}

}  // namespace memscope::agent
