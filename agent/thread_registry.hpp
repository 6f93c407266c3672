// Every application thread that records gets a ThreadState: its rings, their stack caches and
// its counters. States live in one mmap'ed block each, are listed in a lock-free registry (push
// only) that the sidecar walks, and are recycled once the sidecar has proved the thread gone
// (its events drained and the kernel no longer knowing its tid).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>

#include "agent/event_ring.hpp"
#include "agent/thread_cpu.hpp"

namespace memscope::agent {

inline constexpr uint32_t kStackCacheEntries = 4096;

enum class ThreadPhase : uint32_t { kLive, kEnded, kReclaimable };

// Level 0 holds the thread's records; level 1 those of signal handlers whose hooks interrupted
// one of the thread's own claims on level 0 (ring_room.hpp).
inline constexpr int kRingLevels = 2;

struct ThreadState {
  EventRing ring;         // level 0
  EventRing nested_ring;  // level 1
  pid_t tid;
  pid_t parent_tid;
  std::atomic<ThreadPhase> phase;
  std::atomic<uint64_t> ring_waits;  // producer found the ring full and waited
  std::atomic<uint64_t> ring_wait_ns;
  std::atomic<uint64_t> gate_wait_ns;  // waiting for the sidecar otherwise: fork gate, flushes
  std::atomic<uint64_t> dropped_events;
  std::atomic<uint32_t> room_epoch;    // bumped by the sidecar when it made room a producer awaits
  std::atomic<uint32_t> room_waiters;  // producers (the thread, its signal handlers) awaiting room
  ThreadState* next;                   // registry list, never unlinked
  // Read by the thread just before it publishes its kThreadStart / kThreadEnd slot, so the
  // sidecar, which encodes that slot, sees them complete.
  ThreadCpuReading cpu_at_start;
  ThreadCpuReading cpu_at_end;
  // Per level, the stacks that ring already carried (the sidecar drains each ring in order, so
  // an event's stack record travels in the event's own ring), and the trace they were sent to.
  uint64_t stack_cache[kRingLevels][kStackCacheEntries];
  uint32_t stack_cache_generation[kRingLevels];
};

inline EventRing& ring_at_level(ThreadState* ts, int level) {
  return level == 0 ? ts->ring : ts->nested_ring;
}

// The calling thread's state, registering it on first use; null when it cannot record.
ThreadState* this_thread_state();
// Registers the calling thread now, naming its creator (called by the pthread_create trampoline).
ThreadState* register_this_thread(pid_t parent_tid);
// Records the end of the calling thread (its thread-specific data destructor calls this).
void end_this_thread();
// Counts `ns` the calling thread spent waiting for the sidecar (fork gate, flush) against it.
void add_gate_wait(uint64_t ns);

ThreadState* registry_head();
// Offers a drained, ended thread's state for reuse once the kernel confirms the thread is gone.
bool try_reclaim(ThreadState* state);

// In a forked child: every state but the caller's belongs to a thread that does not exist here.
void reset_registry_after_fork();
// In a forked child once its trace is started (trace `generation`): the caller's thread has sent
// none of its stacks to it.
void forget_sent_stacks_after_fork(uint32_t generation);

// Creates the thread-end key; call once from the agent's initialisation.
void init_thread_registry();

// Stack cache: which stacks a ring of this thread already sent to the sidecar. A direct-mapped
// table: an evicted stack is simply sent again (the sidecar interns it once).
inline bool stack_already_sent(const ThreadState* ts, int level, uint64_t hash) {
  return ts->stack_cache[level][hash & (kStackCacheEntries - 1)] == hash;
}
inline void mark_stack_sent(ThreadState* ts, int level, uint64_t hash) {
  ts->stack_cache[level][hash & (kStackCacheEntries - 1)] = hash;
}

}  // namespace memscope::agent
