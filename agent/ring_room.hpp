// A producer's claim on slots of its own thread's ring, and its wait for room when the ring is
// full. The wait is lossless, asleep and counted, but a producer must never wait for room that
// cannot come:
// - A signal handler whose hook runs while the same thread is inside a claim of its own (slots
//   reserved, not yet published: the sidecar reads in order and stops there) would wait behind
//   that claim for ever once the ring is full. Its claim goes to the thread's nested ring
//   instead (level 1), where it waits for room like any other: lossless. A handler interrupting
//   a claim on the nested ring too (a second signal inside the first handler's hook) waits only
//   for room the sidecar can make without the interrupted record, and is dropped and counted
//   when it would need more than that.
// - Without a sidecar (before it starts, after it stopped, or in a child made by a raw
//   clone() without fork(), which inherited our rings but no sidecar) the event is dropped and
//   counted; such a child stops recording for good (it runs untraced).
#pragma once

#include <cstdint>

#include "agent/thread_registry.hpp"

namespace memscope::agent {

struct Claim {
  EventRing* ring = nullptr;  // where the record goes: ring_at_level(ts, level)
  int level = 0;
  uint64_t pos = 0;    // the first reserved slot
  uint64_t outer = 0;  // the claim this one interrupted on the same level (restored by end_claim)
};

// The level the calling thread's next claim goes to. A signal handler that runs in between ends
// its own claims before the thread resumes, so the answer holds until begin_claim.
int next_claim_level();
// Reserves n slots on the calling thread's ring, waiting for room as needed. `droppable`: may be
// dropped when MEMSCOPE_DROP_WHEN_FULL asks for it (thread starts and ends never are). False when
// the record is dropped (counted in ts->dropped_events): write nothing, call nothing more.
bool begin_claim(ThreadState* ts, uint32_t n, bool droppable, Claim& claim);
// After the claim's last record is published.
void end_claim(const Claim& claim);

}  // namespace memscope::agent
