// Call-stack capture for allocation events: a walk with cached per-address DWARF rules
// (unwind_rules.hpp), or libgcc's _Unwind_Backtrace where those fall short (linked into the
// agent, nothing loaded at run time), the agent's own frames trimmed off, and an xxHash of the
// frames as the stack's identity. A thread's repeated call path costs a check of the stack
// words its previous walk read instead of a walk (stack_capture.cpp). Safe in signal handlers
// and fork children: no lock, no allocation, no descriptor.
#pragma once

#include <cstdint>

namespace memscope::agent {

inline constexpr uint32_t kMaxStackDepth = 256;

struct CapturedStack {
  uint64_t hash = 0;  // 0: no stack (stacks disabled or nothing captured)
  uint32_t depth = 0;
  uint64_t frames[kMaxStackDepth];
};

// Remembers the agent library's address range so its frames can be trimmed, and runs the
// unwinder's one-time set-up. Call once from the library constructor; allocations before that
// carry no stack.
void init_stack_capture();
void capture_stack(CapturedStack& out);
// Whether the calling thread runs inside a signal handler: a frame of its stack returns into
// the kernel's signal trampoline (or it is on its alternate signal stack).
bool inside_signal_handler();
// Whether `pc` lies in the agent's own code. The capture trims the agent's leading frames (the
// hook); the sidecar drops the others once per distinct stack (a wrapper of the agent's between
// the program and libc, as the pthread_create wrapper is when glibc allocates a new thread's
// TLS), which costs the capture nothing per frame.
bool inside_agent(uintptr_t pc);

}  // namespace memscope::agent
