// The agent's life in a process: first contact (resolution, configuration, registry) on the
// very first intercepted call, tracing started by the library constructor, the final flush
// from the destructor (signals and quick_exit: endings.cpp), and the fork child's fresh start.
#include "agent/lifecycle.hpp"

#include <unistd.h>

#include <cstring>

#include "agent/agent_state.hpp"
#include "agent/clock.hpp"
#include "agent/config.hpp"
#include "agent/endings.hpp"
#include "agent/fork_inheritance.hpp"
#include "agent/freeres.hpp"
#include "agent/last_thread.hpp"
#include "agent/leak_scan.hpp"
#include "agent/loader_tls.hpp"
#include "agent/module_map.hpp"
#include "agent/real_functions.hpp"
#include "agent/sampler.hpp"
#include "agent/sidecar.hpp"
#include "agent/stack_capture.hpp"
#include "agent/thread_mode.hpp"
#include "agent/thread_registry.hpp"

namespace memscope::agent {

std::atomic<bool> g_recording{false};
std::atomic<bool> g_sidecar_running{false};
std::atomic<bool> g_modules_changed{true};
std::atomic<uint32_t> g_sidecar_progress{0};
std::atomic<uint32_t> g_trace_generation{0};
pid_t g_traced_pid = 0;

namespace {

// With --no-follow, children must not load the agent: blank our entry in LD_PRELOAD in place
// (no allocation, and other preloaded libraries stay).
void remove_self_from_preload() {
  char* preload = getenv("LD_PRELOAD");
  if (preload == nullptr) return;
  for (char* entry = strstr(preload, "libmemscope_agent.so"); entry != nullptr;
       entry = strstr(entry, "libmemscope_agent.so")) {
    char* begin = entry;
    while (begin > preload && begin[-1] != ' ' && begin[-1] != ':') --begin;
    char* end = entry;
    while (*end != '\0' && *end != ' ' && *end != ':') ++end;
    std::memset(begin, ' ', static_cast<size_t>(end - begin));
    entry = end;
  }
}

bool start_tracing(const ProcessOrigin& origin) {
  g_traced_pid = getpid();
  init_last_thread();
  if (!start_sidecar(origin)) return false;
  install_ending_flushes();
  return true;
}

bool g_dormant = false;

bool preloaded() {
  const char* preload = getenv("LD_PRELOAD");
  return preload != nullptr && strstr(preload, "libmemscope_agent.so") != nullptr;
}

}  // namespace

bool agent_is_dormant() {
  return g_dormant;
}

bool start_tracing_into(const char* output_dir) {
  if (strlen(output_dir) >= sizeof(g_config.output_dir)) return false;
  strcpy(g_config.output_dir, output_dir);
  ScopedMode passthrough(ThreadMode::kPassthrough);
  return start_tracing({});
}

void first_contact() {
  load_config(g_config);
  init_thread_registry();
  count_memscope_tls_modules();
  g_dormant = !preloaded();
  g_recording.store(!g_dormant);
}

void after_fork_in_child(pid_t parent_pid, uint64_t fork_stamp, bool model_copied_whole,
                         ForkTail tail) {
  ScopedMode passthrough(ThreadMode::kPassthrough);
  bool traced = g_config.follow_children && !g_dormant;
  bool scans = traced && children_scan_leaks();
  // A sidecar not parked may have been inside a walk of the module list when the fork copied it.
  if (!model_copied_whole) forget_module_walk();
  std::unique_ptr<OnlineHeap> parent_model =
      abandon_sidecar_after_fork(model_copied_whole && scans);
  reset_registry_after_fork();
  reset_sampler_after_fork();
  g_traced_pid = getpid();
  if (!traced) {
    g_recording.store(false);
    return;
  }
  if (scans) keep_inheritance(std::move(parent_model), std::move(tail));
  if (start_tracing({parent_pid, fork_stamp}))
    forget_sent_stacks_after_fork(g_trace_generation.load());
}

void finish_tracing(format::EndReason reason, int64_t detail) {
  if (t_mode == ThreadMode::kSealed) return;  // a system call would kill it: the sidecar sees it go
  if (getpid() != g_traced_pid) return;       // a vfork child shares our memory, not our trace
  note_exit_point_here();                     // unless the process-end handler did, further up
  flush_sidecar(reason, detail, true);
}

void flush_before_exec() {
  if (getpid() != g_traced_pid) return;
  flush_sidecar(format::EndReason::kExec, 0, false);
}

}  // namespace memscope::agent

namespace a = memscope::agent;

__attribute__((constructor(101))) static void memscope_agent_start() {
  a::real_functions_ready();
  a::ScopedMode passthrough(a::ThreadMode::kPassthrough);
  a::init_stack_capture();
  a::count_memscope_tls_modules();
  if (a::agent_is_dormant()) return;
  if (!a::g_config.follow_children) a::remove_self_from_preload();
  a::start_tracing({});
  a::register_process_end();
}

// Only where exit() will not run the process-end handler (freeres.hpp) after us.
__attribute__((destructor(101))) static void memscope_agent_stop() {
  if (!a::process_end_registered()) a::finish_tracing(memscope::format::EndReason::kExit, 0);
}
