// The leak scan at a process's normal end (exit, return from main, _exit): every block the
// sidecar's heap model holds live is classified as memcheck does (leak_graph.hpp) from the
// roots of the process: the writable segments of every loaded module but the agent's, the
// stack (from its stack pointer up) and static TLS of the exiting thread, with its callee-saved
// registers spilled onto that stack, and the stacks of the other threads still alive. Memory is
// read with process_vm_readv, so a block another thread frees and unmaps meanwhile reads as
// zeros instead of faulting. The scan runs on the sidecar, between the final drain and the
// heap summary, and stops at a time limit (kLeakScanLimitNs) rather than hold up the exit.
#pragma once

#include <cstdint>
#include <vector>

#include "format/leak_scan.hpp"
#include "format/trace_format.hpp"
#include "heap/heap_model.hpp"

namespace memscope::agent {

inline constexpr uint64_t kLeakScanLimitNs = 2'000'000'000ull;

// On the exiting thread, just before the final flush: where its stack is now (everything above
// `stack_pointer` stays put while it waits for the sidecar).
void note_exit_point(uint64_t stack_pointer);
// What became of the runtime's buffers (freeres.cpp), for the record.
void note_freeres(format::FreeresOutcome outcome);

// Whether a process ending this way gets a LeakScan record (normal ends only).
bool leak_scan_due(format::EndReason reason);
// On the sidecar: classifies `model`'s live blocks (null: no model was kept) and appends the
// LeakScan record's body to `body`.
void run_leak_scan(const heap::HeapModel* model, format::EndReason reason,
                   std::vector<uint8_t>& body);

}  // namespace memscope::agent
