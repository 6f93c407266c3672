// What an allocation on the current thread means to the agent. Application threads record;
// the agent's own code paths pass through untraced; the agent's own threads (the sidecar) take
// their memory from the agent's allocator (private_heap.hpp) so they never touch the program's
// heap.
#pragma once

#include <cstdint>

namespace memscope::agent {

// kSealed: a thread in seccomp strict mode, which may make no system call but read, write, exit
// and sigreturn, nor read the TSC: any stamp or wait of ours would kill it. It runs untraced.
enum class ThreadMode : uint8_t {
  kApplication = 0,
  kPassthrough = 1,
  kAgentThread = 2,
  kSealed = 3,
};

// initial-exec TLS: no allocation on first access, valid during thread teardown. constinit: the
// compiler knows it needs no initialisation call, so every hook reads it with one instruction.
extern thread_local constinit ThreadMode t_mode __attribute__((tls_model("initial-exec")));

// Switches the mode for a scope (an agent code path on an application thread), then restores it.
class ScopedMode {
 public:
  explicit ScopedMode(ThreadMode mode) : saved_(t_mode) { t_mode = mode; }
  ~ScopedMode() { t_mode = saved_; }
  ScopedMode(const ScopedMode&) = delete;
  ScopedMode& operator=(const ScopedMode&) = delete;

 private:
  ThreadMode saved_;
};

}  // namespace memscope::agent
