// Blocks the program's allocator handed to the agent's own code paths (passthrough mode: the
// loader's memory for the agent's private libraries), which the trace never records. glibc's
// __libc_freeres frees some of the loader's at exit (dependency lists, extra names), and those
// frees must not reach the trace as frees of unknown blocks.
// A fixed table, lock-free; one that overflows forgets the newest blocks (their frees at exit
// are then counted as unmatched, as before).
#pragma once

namespace memscope::agent {

void remember_untracked(const void* block);
// True when `block` was in the table (and takes it out).
bool forget_untracked(const void* block);

}  // namespace memscope::agent
