// Start, fork and end of tracing in one process (see lifecycle.cpp).
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "agent/fork_inheritance.hpp"
#include "format/trace_format.hpp"

namespace memscope::agent {

// Runs once, inside the first intercepted call, before anything is recorded.
void first_contact();
// True when the agent was linked into the program rather than preloaded: it then records only
// inside regions opened through the C++ API.
bool agent_is_dormant();
// Opens the trace and starts the sidecar now (a dormant agent's first region).
bool start_tracing_into(const char* output_dir);
// `model_copied_whole`: the parent's sidecar was parked, so its heap model is whole in the
// child's copy of memory; `tail`: the forking thread's events the sidecar had not drained.
void after_fork_in_child(pid_t parent_pid, uint64_t fork_stamp, bool model_copied_whole,
                         ForkTail tail);
// Final flush: writes everything recorded and the process's end. Safe to call more than once.
void finish_tracing(format::EndReason reason, int64_t detail);
// Writes everything recorded so far, in case the exec succeeds and this image is gone.
void flush_before_exec();

}  // namespace memscope::agent
