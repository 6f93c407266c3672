// The leak scan at a process's normal end (exit, return from main, _exit): every block the
// sidecar's heap model holds live is classified as memcheck does (leak_graph.hpp) from the
// roots of the process: the writable segments of every loaded module but the agent's, the
// stack (from where the program called the agent up), callee-saved registers and static TLS of
// the exiting thread, and the stacks of the other threads still alive. Memory is
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

// On the exiting thread, where the program handed over to the agent (everything above
// `stack_pointer` stays put while it waits for the sidecar). The first call wins: the agent's
// own frames below it hold no pointer of the program's, but may hold stale copies of its
// pointers in slots the agent never wrote, which would make lost blocks look reachable.
// `registers`: the callee-saved registers as the program left them (rbx, rbp, r12-r15).
struct CalleeSaved {
  uint64_t values[6];
};
void note_exit_point(uint64_t stack_pointer, const CalleeSaved& registers);

// Notes the caller's stack pointer (the frame pointer's, which the agent keeps) and the
// callee-saved registers, still the caller's values. Call first thing in an agent entry point
// that ends tracing: its own frame starts in stack the program used before and never rewrote.
__attribute__((always_inline)) inline void note_exit_point_here() {
  CalleeSaved registers;
  asm volatile(
      "mov %%rbx, 0(%0)\n\tmov %%rbp, 8(%0)\n\tmov %%r12, 16(%0)\n\t"
      "mov %%r13, 24(%0)\n\tmov %%r14, 32(%0)\n\tmov %%r15, 40(%0)"
      :
      : "r"(registers.values)
      : "memory");
  note_exit_point(reinterpret_cast<uint64_t>(__builtin_frame_address(0)) + 16, registers);
}
// What became of the runtime's buffers (freeres.cpp), for the record.
void note_freeres(format::FreeresOutcome outcome);

// Sidecar, at its start: opens the files the scan reads at the end (/proc/self/maps and
// /proc/self/task), so that it opens none then.
void keep_leak_scan_files();
// Whether a process ending this way gets a LeakScan record (normal ends only).
bool leak_scan_due(format::EndReason reason);
// On the sidecar: classifies `model`'s live blocks (null: no model was kept) and appends the
// LeakScan record's body to `body`.
void run_leak_scan(const heap::HeapModel* model, format::EndReason reason,
                   std::vector<uint8_t>& body);

}  // namespace memscope::agent
