// robust_sigstorm N H: a SIGALRM interval timer every 2 ms whose handler makes H malloc/free
// pairs of 1000 bytes, while the main thread makes N rounds of malloc(40), realloc to 40 (which
// keeps memscope's hook open across the real call, where the timer mostly lands) and free.
// Under memscope a handler that interrupts the hook must never wait behind the interrupted
// record. Prints "main=N" on stdout and the handler's count ("handler=K") on stderr: the main
// thread's exact count is N + H*K + 2 allocations (two warm-up pairs), N + H*K + 2 frees and
// N reallocs. The sizes use different tcache bins and each bin holds at most one block, so glibc
// serves the handler without its arena lock: it never deadlocks against the interrupted malloc,
// natively or traced. After kMaxHandlerCalls the handler ignores further alarms: a profiler's
// cost per event may make each handler outlast the 2 ms period, and then ticks arriving back to
// back starve the main thread (a livelock of the test's own making on a loaded machine), while
// a handler that waits behind its own thread's unpublished slot still never returns. No stdio.
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "robust_io.h"

enum { kMaxHandlerCalls = 150 };

static volatile sig_atomic_t g_handler_calls;
static long g_handler_pairs;

static void on_alarm(int sig) {
  (void)sig;
  for (long i = 0; i < g_handler_pairs; ++i) {
    void* volatile p = malloc(1000);
    free(p);
  }
  g_handler_calls = g_handler_calls + 1;
  if (g_handler_calls >= kMaxHandlerCalls) signal(SIGALRM, SIG_IGN);  // async-signal-safe
}

int main(int argc, char** argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 300000;
  g_handler_pairs = argc > 2 ? strtol(argv[2], NULL, 10) : 500;
  void* volatile warm = malloc(1000);  // creates the tcache and its bin outside the handler
  free(warm);
  warm = malloc(40);
  free(warm);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGALRM, &sa, NULL) != 0) return 1;
  struct itimerval timer = {{0, 2000}, {0, 2000}};
  if (setitimer(ITIMER_REAL, &timer, NULL) != 0) return 1;
  for (long i = 0; i < n; ++i) {
    void* volatile p = malloc(40);
    p = realloc(p, 40);
    free(p);
  }
  struct itimerval off;
  memset(&off, 0, sizeof off);
  setitimer(ITIMER_REAL, &off, NULL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGALRM);
  sigprocmask(SIG_BLOCK, &set, NULL);  // a last pending alarm must not run after the count
  robust_put_num(2, "handler=", g_handler_calls);
  robust_put_num(1, "main=", n);
  return 0;
}
