// See ring_room.hpp. Nothing here allocates or takes a lock; the only system calls are the futex
// of a wait and, when a ring is full, one getpid() to tell a raw clone() child from the process.
#include "agent/ring_room.hpp"

#include <unistd.h>

#include <atomic>

#include "agent/agent_state.hpp"
#include "agent/clock.hpp"
#include "agent/config.hpp"
#include "agent/sidecar_gate.hpp"

namespace memscope::agent {
namespace {

constexpr uint64_t kNoClaim = ~0ull;

// Per ring level, the first slot of this thread's outermost claim there that has not ended, or
// kNoClaim. A signal handler's hook that finds one set is nested inside that claim.
thread_local uint64_t t_open_claim[kRingLevels]
    __attribute__((tls_model("initial-exec"))) = {kNoClaim, kNoClaim};

bool drop(ThreadState* ts) {
  ts->dropped_events.fetch_add(1, std::memory_order_relaxed);
  return false;
}

// True when no sidecar will ever make room in this process's rings.
bool no_sidecar_drains() {
  if (!g_sidecar_running.load(std::memory_order_acquire)) return true;
  if (getpid() == g_traced_pid) return false;
  g_recording.store(false);  // a raw clone() child: the sidecar is its parent's
  return true;
}

// Sleeps until [pos, pos + n) is free, counting the wait; false when it never will be. Announcing
// the waiter before the last look at the ring pairs with the sidecar's fence between freeing room
// and looking for waiters (drain in sidecar.cpp): one of the two always sees the other.
bool wait_for_room(ThreadState* ts, const EventRing& ring, uint64_t pos, uint32_t n) {
  uint64_t used = ring.in_use_with(pos, n);
  if (used <= ring.capacity()) {
    // Half full: a sleeping sidecar drains now rather than when its pause ends, which a fast
    // producer would spend waiting for room.
    if (used > ring.capacity() / 2) nudge_sidecar();
    return true;
  }
  uint64_t started = now_ns();
  ts->ring_waits.fetch_add(1, std::memory_order_relaxed);
  bool room = true;
  while (!ring.has_room_for(pos, n)) {
    if (no_sidecar_drains()) {
      room = false;
      break;
    }
    uint32_t seen = ts->room_epoch.load();
    ts->room_waiters.fetch_add(1);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!ring.has_room_for(pos, n)) {
      wake_sidecar();
      wait_for_ring_room(ts->room_epoch, seen);
    }
    ts->room_waiters.fetch_sub(1);
  }
  ts->ring_wait_ns.fetch_add(now_ns() - started, std::memory_order_relaxed);
  return room;
}

// Nested inside this thread's own claim at `outer` on the same ring: the sidecar can drain up to
// it and no further, so reserve only what fits before it wraps round to `outer` (checked and
// reserved in one compare-and-swap, since a deeper handler may reserve in between).
bool reserve_behind(EventRing& ring, uint32_t n, bool may_drop, uint64_t outer, uint64_t& pos) {
  uint64_t next = ring.reserved();
  do {
    if (next + n - outer > ring.capacity()) return false;
    if (may_drop && !ring.has_room_for(next, n)) return false;
  } while (!ring.try_reserve(next, n));
  pos = next;
  return true;
}

}  // namespace

int next_claim_level() {
  return t_open_claim[0] == kNoClaim ? 0 : 1;
}

bool begin_claim(ThreadState* ts, uint32_t n, bool droppable, Claim& claim) {
  bool may_drop =
      (droppable && g_config.drop_when_full) || !g_sidecar_running.load(std::memory_order_acquire);
  int level = next_claim_level();
  EventRing& ring = ring_at_level(ts, level);
  uint64_t& open = t_open_claim[level];
  uint64_t outer = open;
  claim.ring = &ring;
  claim.level = level;
  claim.outer = outer;
  if (outer != kNoClaim) {
    if (!reserve_behind(ring, n, may_drop, outer, claim.pos)) return drop(ts);
  } else {
    uint64_t next = ring.reserved();
    if (may_drop && !ring.has_room_for(next, n)) return drop(ts);
    // Before reserving: a handler that interrupts the reservation sees a bound below our slot.
    open = next;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    claim.pos = ring.reserve(n);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    open = claim.pos;
  }
  if (wait_for_room(ts, ring, claim.pos, n)) return true;
  open = outer;  // the reserved slots stay unpublished: nobody drains this ring any more
  return drop(ts);
}

void end_claim(const Claim& claim) {
  std::atomic_signal_fence(std::memory_order_seq_cst);
  t_open_claim[claim.level] = claim.outer;
}

}  // namespace memscope::agent
