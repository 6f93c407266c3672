// Turns one allocation-family call into ring records on the calling thread: captures the stack,
// claims slots (ring_room.hpp: waiting for the sidecar when the ring is full, unless dropping was
// asked for or the wait could never end), stamps, fills and publishes. The stamping rule that makes
// cross-thread order provable: an allocation is stamped after the real call returned, a free before
// the real call is made. The checks every call makes (recording here? sampled?) are inline, so
// an unsampled call of a sampled run costs no call of ours beyond the hook itself.
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/agent_state.hpp"
#include "agent/ring_room.hpp"
#include "agent/sampler.hpp"
#include "agent/thread_mode.hpp"
#include "agent/thread_registry.hpp"
#include "format/trace_format.hpp"

namespace memscope::agent {

// True while application threads should record (tracing on, this thread not an agent path).
inline bool recording_here() {
  return t_mode == ThreadMode::kApplication && g_recording.load(std::memory_order_relaxed);
}

// The records themselves, whether or not the block was sampled (sampler.hpp).
void write_alloc(format::AllocFn fn, const void* ptr, size_t size);
void write_free(const void* ptr);

inline void record_alloc(format::AllocFn fn, const void* ptr, size_t size) {
  if (keep_alloc(ptr, size)) write_alloc(fn, ptr, size);
}
inline void record_free(const void* ptr) {
  if (keep_free(ptr)) write_free(ptr);
}
// A region marker of the C++ API (begin or end), recorded whether or not tracing is paused.
// Returns its stamp.
uint64_t record_region_marker(uint64_t region_id, bool begin);

// A realloc in flight: begin before the real call (stamps the free part), finish after it. Its
// claim stays open across the real call: a signal handler allocating meanwhile nests inside it.
// In a sampled run the open record may be the old block's free alone, dropped if the call fails.
struct PendingRealloc {
  ThreadState* ts = nullptr;  // null: no record open
  uint64_t pos = 0;
  Claim claim;
  format::AllocFn fn = format::AllocFn::kRealloc;
  bool is_realloc = false;  // the open record: `realloc`, or (false) `free`
  ReallocPayload realloc{};
  FreePayload free{};
  const void* old_ptr = nullptr;
  size_t size = 0;
  ReallocSampling sampling;
};
PendingRealloc begin_realloc(format::AllocFn fn, const void* old_ptr, size_t size);
void finish_realloc(const PendingRealloc& pending, const void* new_ptr);

}  // namespace memscope::agent
