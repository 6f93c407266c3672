// See endings.hpp. A flush handler stands in for SIG_DFL on every signal whose default action
// ends the process; the program never sees it: sigaction() and signal() report SIG_DFL where it
// is installed, and a program that sets SIG_DFL (to re-raise from its own handler, say) gets the
// flush handler back. Any other disposition the program chooses replaces ours.
#include "agent/endings.hpp"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "agent/entry_points.hpp"
#include "agent/lifecycle.hpp"
#include "agent/real_functions.hpp"

namespace memscope::agent {
namespace {

std::atomic<bool> g_flushing{false};
std::atomic<int> g_quick_exit_status{0};
bool g_quick_exit_registered = false;  // set before any thread of the program exists

// signal(7): every signal whose default action is to terminate or dump core, but SIGKILL, which
// cannot be caught. The first two realtime signals belong to glibc (sigaction refuses them).
bool ends_process_by_default(int sig) {
  switch (sig) {
    case SIGKILL:
    case SIGSTOP:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
    case SIGCHLD:
    case SIGCONT:
    case SIGURG:
    case SIGWINCH:
      return false;
    default:
      return (sig >= 1 && sig < 32) || (sig >= SIGRTMIN && sig <= SIGRTMAX);
  }
}

// Flushes, then dies of the same signal by its default action: the same exit status, core dump
// and parent notification as without us.
void on_ending_signal(int sig) {
  int saved_errno = errno;
  finish_tracing(format::EndReason::kSignal, sig);
  struct sigaction fallback = {};
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  g_real.sigaction(sig, &fallback, nullptr);
  raise(sig);
  errno = saved_errno;  // only reached if the program installed a handler meanwhile
}

bool flushes(int sig) {
  return g_flushing.load(std::memory_order_relaxed) && ends_process_by_default(sig);
}

// Only over SIG_DFL: an ignored signal, or one the program handles, stays as it is.
void flush_where_default(int sig) {
  struct sigaction current;
  if (g_real.sigaction(sig, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) return;
  struct sigaction flush = {};
  flush.sa_handler = on_ending_signal;
  flush.sa_flags = SA_RESETHAND | SA_NODEFER | SA_RESTART;
  sigemptyset(&flush.sa_mask);
  g_real.sigaction(sig, &flush, nullptr);
}

// What the kernel reports for a signal at its default.
void show_default(struct sigaction* old) {
  if (old == nullptr || old->sa_handler != on_ending_signal) return;
  *old = {};
  old->sa_handler = SIG_DFL;
  sigemptyset(&old->sa_mask);
}

// Registered first, so it runs last: after every at_quick_exit handler of the program.
void quick_exit_flush() {
  finish_tracing(format::EndReason::kQuickExit, g_quick_exit_status.load());
}

}  // namespace

// A fork child inherits its parent's dispositions, ours among them: nothing to look at again.
void install_ending_flushes() {
  if (g_flushing.load()) return;
  for (int sig = 1; sig <= SIGRTMAX; ++sig)
    if (ends_process_by_default(sig)) flush_where_default(sig);
  g_flushing.store(true);
  if (!g_quick_exit_registered) g_quick_exit_registered = at_quick_exit(quick_exit_flush) == 0;
}

void note_quick_exit(int status) {
  g_quick_exit_status.store(status);
}

int on_sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  real_functions_ready();
  int rc = g_real.sigaction(sig, act, old);
  if (rc != 0) return rc;
  show_default(old);
  if (act != nullptr && act->sa_handler == SIG_DFL && flushes(sig)) flush_where_default(sig);
  return rc;
}

sighandler_t on_signal(int sig, sighandler_t handler) {
  real_functions_ready();
  sighandler_t previous = g_real.signal(sig, handler);
  if (previous == SIG_ERR) return previous;
  if (handler == SIG_DFL && flushes(sig)) flush_where_default(sig);
  return previous == on_ending_signal ? SIG_DFL : previous;
}

}  // namespace memscope::agent
