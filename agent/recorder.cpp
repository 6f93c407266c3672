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

void write_stack(EventRing& ring, uint64_t pos, const CapturedStack& stack) {
  ring.write(pos, StackPayload{stack.hash, stack.depth});
  ring.put_words(pos + record_words<StackPayload>(), stack.frames, stack.depth);
  ring.publish(pos, RecordType::kStack, 0, stack_record_words(stack.depth));
}

// Claims room for one event record of `words`, preceded by the stack record when this thread has
// not sent that stack yet. Returns the event's position, or false when the event is dropped.
bool reserve_event(ThreadState* ts, const CapturedStack& stack, uint32_t words, Claim& claim,
                   uint64_t& event_pos) {
  int level = next_claim_level();
  uint32_t generation = g_trace_generation.load(std::memory_order_relaxed);
  if (ts->stack_cache_generation[level] != generation) {  // a new trace knows none of our stacks
    std::memset(ts->stack_cache[level], 0, sizeof(ts->stack_cache[level]));
    ts->stack_cache_generation[level] = generation;
  }
  bool send_stack = stack.hash != 0 && !stack_already_sent(ts, level, stack.hash);
  uint32_t stack_words = send_stack ? stack_record_words(stack.depth) : 0;
  if (!begin_claim(ts, stack_words + words, true, claim)) return false;
  if (send_stack) {
    write_stack(*claim.ring, claim.pos, stack);
    mark_stack_sent(ts, level, stack.hash);
  }
  event_pos = claim.pos + stack_words;
  return true;
}

// Writes and publishes the claim's event record and ends the claim.
template <typename Payload>
void publish_event(const Claim& claim, uint64_t event_pos, RecordType type, uint8_t fn,
                   const Payload& payload) {
  claim.ring->write(event_pos, payload);
  claim.ring->publish(event_pos, type, fn, record_words<Payload>());
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
  if (!reserve_event(ts, stack, record_words<AllocPayload>(), claim, pos)) return;
  AllocPayload alloc{now_ns(), reinterpret_cast<uint64_t>(ptr), size, stack.hash};
  publish_event(claim, pos, RecordType::kAlloc, static_cast<uint8_t>(fn), alloc);
}

// Claims and stamps a free record, which the caller writes and publishes. Null when nothing is
// claimed.
ThreadState* open_free(const void* ptr, Claim& claim, uint64_t& pos, FreePayload& free) {
  ThreadState* ts = recording_thread();
  if (ts == nullptr) return nullptr;
  CapturedStack no_stack;
  if (!reserve_event(ts, no_stack, record_words<FreePayload>(), claim, pos)) return nullptr;
  free = {now_ns(), reinterpret_cast<uint64_t>(ptr)};
  return ts;
}

void write_free(const void* ptr) {
  Claim claim;
  uint64_t pos;
  FreePayload free;
  if (open_free(ptr, claim, pos, free) != nullptr)
    publish_event(claim, pos, RecordType::kFree, 0, free);
}

uint64_t record_region_marker(uint64_t region_id, bool begin) {
  if (t_mode != ThreadMode::kApplication) return now_ns();
  ThreadState* ts = this_thread_state();
  if (ts == nullptr) return now_ns();
  CapturedStack no_stack;
  Claim claim;
  uint64_t pos;
  if (!reserve_event(ts, no_stack, record_words<RegionPayload>(), claim, pos)) return now_ns();
  RegionPayload region{now_ns(), region_id};
  publish_event(claim, pos, RecordType::kRegion, begin ? 1 : 0, region);
  return region.stamp;
}

PendingRealloc begin_realloc(format::AllocFn fn, const void* old_ptr, size_t size) {
  PendingRealloc pending;
  pending.fn = fn;
  pending.old_ptr = old_ptr;
  pending.size = size;
  pending.sampling = keep_realloc(old_ptr, size);
  if (!pending.sampling.new_sampled) {
    if (pending.sampling.old_sampled)
      pending.ts = open_free(old_ptr, pending.claim, pending.pos, pending.free);
    return pending;
  }
  ThreadState* ts = recording_thread();
  if (ts == nullptr) return pending;
  CapturedStack stack;
  capture_stack(stack);
  if (!reserve_event(ts, stack, record_words<ReallocPayload>(), pending.claim, pending.pos))
    return pending;
  pending.realloc = {now_ns(), 0, reinterpret_cast<uint64_t>(old_ptr), 0, size, stack.hash};
  pending.is_realloc = true;
  pending.ts = ts;
  return pending;
}

void finish_realloc(const PendingRealloc& pending, const void* new_ptr) {
  settle_realloc(pending.old_ptr, pending.size, pending.sampling, new_ptr);
  if (pending.ts == nullptr) return;
  // A failed realloc (null for a non-zero size) left the old block alone: nothing happened. Its
  // record keeps its length, so the drain steps over it.
  bool failed = new_ptr == nullptr && pending.size != 0;
  if (!pending.is_realloc) {
    publish_event(pending.claim, pending.pos, failed ? RecordType::kNop : RecordType::kFree, 0,
                  pending.free);
    return;
  }
  ReallocPayload realloc = pending.realloc;
  realloc.stamp_after = now_ns();
  realloc.ptr = reinterpret_cast<uint64_t>(new_ptr);
  publish_event(pending.claim, pending.pos, failed ? RecordType::kNop : RecordType::kRealloc,
                static_cast<uint8_t>(pending.fn), realloc);
}

}  // namespace memscope::agent
