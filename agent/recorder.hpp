// Turns one allocation-family call into ring records on the calling thread: captures the stack,
// claims slots (ring_room.hpp: waiting for the sidecar when the ring is full, unless dropping was
// asked for or the wait could never end), stamps, fills and publishes. The stamping rule that makes
// cross-thread order provable: an allocation is stamped after the real call returned, a free before
// the real call is made.
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/ring_room.hpp"
#include "agent/thread_registry.hpp"
#include "format/trace_format.hpp"

namespace memscope::agent {

// True while application threads should record (tracing on, this thread not an agent path).
bool recording_here();

void record_alloc(format::AllocFn fn, const void* ptr, size_t size);
void record_free(const void* ptr);
// The free record itself, whether or not the block was sampled (sampler.hpp).
void write_free(const void* ptr);
// A region marker of the C++ API (begin or end), recorded whether or not tracing is paused.
// Returns its stamp.
uint64_t record_region_marker(uint64_t region_id, bool begin);

// A realloc in flight: begin before the real call (stamps the free part), finish after it. Its
// claim stays open across the real call: a signal handler allocating meanwhile nests inside it.
struct PendingRealloc {
  ThreadState* ts = nullptr;
  uint64_t pos = 0;
  Claim claim;
};
PendingRealloc begin_realloc(format::AllocFn fn, const void* old_ptr, size_t size);
void finish_realloc(const PendingRealloc& pending, const void* new_ptr);

}  // namespace memscope::agent
