// Wakes the sidecar early and holds it at a safe point while the program forks. A fork copies
// only the forking thread: had the sidecar been inside the loader's lock (dl_iterate_phdr),
// mimalloc or libc at that moment, the child would inherit a lock nobody can release. The
// sidecar therefore parks between cycles, holding nothing, for the duration of every fork.
#pragma once

#include <cstdint>

namespace memscope::agent {

// Sidecar side: sleeps up to `timeout_ns` unless woken; parks while a fork is in progress.
void sidecar_pause(uint64_t timeout_ns);
void sidecar_park_if_forking();
// Application side.
void wake_sidecar();
void hold_sidecar_for_fork();       // returns once the sidecar is parked (bounded wait)
void release_sidecar_after_fork();  // in the parent
void reset_sidecar_gate_in_child();

}  // namespace memscope::agent
