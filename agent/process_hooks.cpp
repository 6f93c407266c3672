// Entry points for the process's shape: threads (parent and lifetime), fork (a fresh trace for
// the child, linked to the parent), exec (flush first: the image is about to vanish), _exit,
// _Exit and quick_exit (flush: destructors will not run), the exit_group, execve and execveat
// system calls made through syscall(), dlopen/dlclose (the module map changed) and prctl (a
// thread sealing itself in seccomp strict mode).
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <vector>

#include "agent/agent_memory.hpp"
#include "agent/agent_state.hpp"
#include "agent/clock.hpp"
#include "agent/config.hpp"
#include "agent/endings.hpp"
#include "agent/entry_points.hpp"
#include "agent/fork_inheritance.hpp"
#include "agent/lifecycle.hpp"
#include "agent/real_functions.hpp"
#include "agent/recorder.hpp"
#include "agent/sidecar_gate.hpp"
#include "agent/thread_mode.hpp"
#include "agent/thread_registry.hpp"
#include "agent/unwind_rules.hpp"
#include "collector/linux/own_descriptors.hpp"

extern char** environ;

namespace memscope::agent {
namespace {

struct StartInfo {
  void* (*start)(void*);
  void* arg;
  pid_t parent_tid;
};

void* start_traced_thread(void* raw) {
  StartInfo info = *static_cast<StartInfo*>(raw);
  memory::release(raw);
  if (recording_here()) register_this_thread(info.parent_tid);
  return info.start(info.arg);
}

}  // namespace

int on_pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*start)(void*),
                      void* arg) {
  real_functions_ready();
  if (!recording_here()) return g_real.pthread_create(thread, attr, start, arg);
  auto* info = static_cast<StartInfo*>(memory::allocate(sizeof(StartInfo)));
  if (info == nullptr) return g_real.pthread_create(thread, attr, start, arg);
  *info = {start, arg, static_cast<pid_t>(syscall(SYS_gettid))};
  int rc = g_real.pthread_create(thread, attr, start_traced_thread, info);
  if (rc != 0) memory::release(info);
  return rc;
}

pid_t on_fork() {
  real_functions_ready();
  pid_t parent = getpid();
  hold_sidecar_for_fork();
  ForkTail tail = children_scan_leaks() ? forking_thread_tail() : ForkTail{};
  uint64_t stamp = now_ns();
  pid_t pid = g_real.fork();
  if (pid == 0) {
    fds::close_inherited();  // the parent's, where they were in the program's table
    memory::forget_sidecar_cache();
    bool model_copied_whole = sidecar_parked();
    reset_sidecar_gate_in_child();
    if (parent == g_traced_pid)
      after_fork_in_child(parent, stamp, model_copied_whole, std::move(tail));
  } else {
    release_sidecar_after_fork();
  }
  return pid;
}

// Both forward as tail calls: glibc resolves a relative name against the caller's RUNPATH,
// and the caller must stay the program, not us. The sidecar also watches the loader's counters.
void* on_dlopen(const char* file, int mode) {
  real_functions_ready();
  g_modules_changed.store(true);
  return g_real.dlopen(file, mode);
}

int on_dlclose(void* handle) {
  real_functions_ready();
  g_modules_changed.store(true);
  int rc = g_real.dlclose(handle);
  forget_frame_rules();  // an unloaded module's addresses may hold another one next
  return rc;
}

void on_underscore_exit(int status) {
  real_functions_ready();
  finish_tracing(format::EndReason::kUnderscoreExit, status);
  g_real.underscore_exit(status);
  __builtin_unreachable();
}

// A thread entering seccomp strict mode stops recording for good (thread_mode.hpp); when it
// leaves, the sidecar notices (last_thread.hpp).
int on_prctl(int option, va_list rest) {
  real_functions_ready();
  unsigned long arg[4];
  for (unsigned long& a : arg) a = va_arg(rest, unsigned long);
  int rc = g_real.prctl(option, arg[0], arg[1], arg[2], arg[3]);
  if (rc == 0 && option == PR_SET_SECCOMP && arg[0] == SECCOMP_MODE_STRICT)
    t_mode = ThreadMode::kSealed;
  return rc;
}

void on_quick_exit(int status) {
  real_functions_ready();
  note_quick_exit(status);
  g_real.quick_exit(status);
  __builtin_unreachable();
}

// Everything but the three calls that end the image is forwarded unchanged. Six arguments are
// always read, as glibc's own syscall() reads six registers: the extra ones are unused.
long on_syscall(long number, va_list rest) {
  long args[6];
  for (long& arg : args) arg = va_arg(rest, long);
  if (!real_functions_ready()) return raw_syscall(number, args);
  if (number == SYS_exit_group)
    finish_tracing(format::EndReason::kUnderscoreExit, static_cast<int>(args[0]));
  if (number == SYS_execve || number == SYS_execveat) flush_before_exec();
  long rc = g_real.syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]);
  // Strict seccomp entered this way seals the thread as through prctl (on_prctl).
  bool strict =
      (number == SYS_seccomp && args[0] == SECCOMP_SET_MODE_STRICT) ||
      (number == SYS_prctl && args[0] == PR_SET_SECCOMP && args[1] == SECCOMP_MODE_STRICT);
  if (rc == 0 && strict) t_mode = ThreadMode::kSealed;
  return rc;
}

int on_execve(const char* path, char* const argv[], char* const envp[]) {
  real_functions_ready();
  flush_before_exec();
  return g_real.execve(path, argv, envp);
}

int on_execv(const char* path, char* const argv[]) {
  return on_execve(path, argv, environ);
}

int on_execvpe(const char* file, char* const argv[], char* const envp[]) {
  real_functions_ready();
  flush_before_exec();
  return g_real.execvpe(file, argv, envp);
}

int on_execvp(const char* file, char* const argv[]) {
  return on_execvpe(file, argv, environ);
}

int on_fexecve(int fd, char* const argv[], char* const envp[]) {
  real_functions_ready();
  flush_before_exec();
  return g_real.fexecve(fd, argv, envp);
}

int on_execveat(int dirfd, const char* path, char* const argv[], char* const envp[], int flags) {
  real_functions_ready();
  flush_before_exec();
  return g_real.execveat(dirfd, path, argv, envp, flags);
}

int on_execl_family(char variant, const char* path, const char* arg, va_list rest) {
  std::vector<char*> argv{const_cast<char*>(arg)};
  while (argv.back() != nullptr) argv.push_back(va_arg(rest, char*));
  char* const* envp = variant == 'e' ? va_arg(rest, char* const*) : environ;
  if (variant == 'p') return on_execvpe(path, argv.data(), envp);
  return on_execve(path, argv.data(), envp);
}

}  // namespace memscope::agent
