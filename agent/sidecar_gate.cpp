// See sidecar_gate.hpp. Futexes: no allocation, no lock a fork could inherit.
#include "agent/sidecar_gate.hpp"

#include <time.h>

#include <atomic>

#include "agent/agent_state.hpp"
#include "agent/futex.hpp"
#include "agent/thread_registry.hpp"

namespace memscope::agent {
namespace {

std::atomic<uint32_t> g_wakeups{0};  // bumped to wake the sidecar early
std::atomic<uint32_t> g_forkers{0};  // threads inside fork()
std::atomic<uint32_t> g_parked{0};   // 1 while the sidecar is parked
// True while the sidecar sleeps between cycles: a producer whose ring fills up wakes it early.
std::atomic<bool> g_napping{false};

constexpr uint64_t kForkWaitLimitNs = 2'000'000'000ull;  // a wedged sidecar must not stop forks

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

uint32_t sidecar_wakeups() {
  return g_wakeups.load();
}

// Napping, the sidecar holds nothing: it counts as parked, so a fork meanwhile neither wakes it
// nor waits for it (hold_sidecar_for_fork). It leaves as it leaves a park.
void sidecar_pause(uint64_t timeout_ns, uint32_t seen) {
  g_parked.store(1);
  // A forker that raised g_forkers before this store may be waiting for a park: it gets one
  // (below). Any later one sees g_parked and does not wait.
  if (g_forkers.load() == 0) {
    // Announced after `seen` was read: a nudge from then on bumps g_wakeups, so the wait ends.
    g_napping.store(true);
    futex_wait(g_wakeups, seen, timeout_ns);
    g_napping.store(false, std::memory_order_relaxed);
  }
  g_parked.store(0);
  sidecar_park_if_forking();
}

// Leaving, the sidecar clears g_parked and then looks at g_forkers again; a forker raises
// g_forkers and then looks at g_parked (both sequentially consistent). A forker that still saw
// the sidecar parked (or napping) is therefore seen in turn, and the sidecar parks again before
// doing anything else: a fork never copies a sidecar between its safe points.
void sidecar_park_if_forking() {
  while (g_forkers.load() != 0) {
    g_parked.store(1);
    futex_wake_all(g_parked);
    while (g_forkers.load() != 0) futex_wait(g_wakeups, g_wakeups.load(), 10'000'000ull);
    g_parked.store(0);
  }
}

bool sidecar_parked() {
  return g_parked.load() != 0;
}

void wake_sidecar() {
  g_wakeups.fetch_add(1);
  futex_wake_all(g_wakeups);
}

void nudge_sidecar() {
  if (g_napping.load(std::memory_order_relaxed) && g_napping.exchange(false)) wake_sidecar();
}

void hold_sidecar_for_fork() {
  g_forkers.fetch_add(1);
  // A raw clone() child inherited a running flag, not the sidecar: it would wait for nothing.
  if (!g_sidecar_running.load() || getpid() != g_traced_pid || g_parked.load() != 0) return;
  wake_sidecar();
  uint64_t started = monotonic_ns(), deadline = started + kForkWaitLimitNs;
  while (g_parked.load() == 0 && g_sidecar_running.load() && monotonic_ns() < deadline)
    futex_wait(g_parked, 0, 1'000'000ull);
  add_gate_wait(monotonic_ns() - started);  // memscope's time, not the program's
}

void release_sidecar_after_fork() {
  g_forkers.fetch_sub(1);
  wake_sidecar();
}

void reset_sidecar_gate_in_child() {
  g_forkers.store(0);
  g_parked.store(0);
}

void wait_for_ring_room(std::atomic<uint32_t>& room_epoch, uint32_t seen) {
  futex_wait(room_epoch, seen, 1'000'000ull);
}

void signal_ring_room(std::atomic<uint32_t>& room_epoch) {
  room_epoch.fetch_add(1);
  futex_wake_all(room_epoch);
}

}  // namespace memscope::agent
