// Process-wide switches shared by the hooks, the sidecar and the lifecycle code.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>

namespace memscope::agent {

// Application threads record only while this is set (after a trace file is open, before the
// final flush, and never in a child the user asked us not to follow).
extern std::atomic<bool> g_recording;
// While the sidecar runs, a producer facing a full ring waits for it; otherwise it drops.
extern std::atomic<bool> g_sidecar_running;
// Bumped by the sidecar as it works (records drained, chunks sealed): a
// thread waiting for a flush gives up on a sidecar that stopped moving, never on a busy one.
extern std::atomic<uint32_t> g_sidecar_progress;
// Set by dlopen/dlclose: the sidecar rescans the module map.
extern std::atomic<bool> g_modules_changed;
// Bumped for every trace the process starts: threads forget which stacks they already sent.
extern std::atomic<uint32_t> g_trace_generation;
// Set while the runtimes' freeres run at exit (freeres.cpp): frees of blocks the agent's own
// code paths got are then left out of the trace (untracked_blocks.hpp).
extern std::atomic<bool> g_freeing_runtime;
// The pid this agent instance traces (a vfork child shares our memory but not our pid).
extern pid_t g_traced_pid;

}  // namespace memscope::agent
