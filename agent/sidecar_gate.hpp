// Wakes the sidecar early and holds it at a safe point while the program forks. A fork copies
// only the forking thread: had the sidecar been inside the loader's lock (dl_iterate_phdr) or
// libc's at that moment, the child would inherit a lock nobody can release (the agent's own
// allocator takes none). The sidecar therefore parks between cycles, holding nothing, for the
// duration of every fork.
// Also lets a producer whose ring is full sleep until the sidecar has made room: a producer
// that spun would take the CPU the sidecar needs to make it.
#pragma once

#include <atomic>
#include <cstdint>

namespace memscope::agent {

// Sidecar side: sleeps up to `timeout_ns` unless woken since sidecar_wakeups() returned `seen`
// (read at the start of a cycle, so a wake during the cycle is not lost), parked meanwhile (a
// fork need not wake it); parks while a fork is in progress.
uint32_t sidecar_wakeups();
void sidecar_pause(uint64_t timeout_ns, uint32_t seen);
void sidecar_park_if_forking();
// Whether the sidecar is parked or napping now (in a fork child: was, when the fork copied it).
bool sidecar_parked();
// Application side.
void wake_sidecar();
// Wakes the sidecar if it is sleeping between cycles (one producer makes the system call, the
// others see it awake): cheap enough to call whenever a ring is filling up.
void nudge_sidecar();
void hold_sidecar_for_fork();       // returns once the sidecar is parked (bounded wait)
void release_sidecar_after_fork();  // in the parent
void reset_sidecar_gate_in_child();

// Ring full. Producer side: sleeps until `room_epoch` moves on from `seen` (at most 1 ms, so a
// missed wake costs a millisecond, never a hang). Sidecar side: moves it on and wakes sleepers.
void wait_for_ring_room(std::atomic<uint32_t>& room_epoch, uint32_t seen);
void signal_ring_room(std::atomic<uint32_t>& room_epoch);

}  // namespace memscope::agent
