// robust_sigalloc N: a SIGALRM interval timer (every 200 us) whose handler makes one malloc/free
// pair of 1000 bytes, while the main thread makes N malloc/free pairs of 40 bytes. Prints the
// handler's count ("handler=H") and "main=N": the main thread's exact count is N + H + 2 (one
// warm-up pair of each size) and 0 leaks. The sizes use different tcache bins and each bin
// holds at most one block, so glibc serves both without its arena lock: the handler can never
// deadlock against the interrupted malloc (natively or traced). No stdio.
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "robust_io.h"

static volatile sig_atomic_t g_handler_allocs;

static void on_alarm(int sig) {
  (void)sig;
  void* volatile p = malloc(1000);
  free(p);
  g_handler_allocs = g_handler_allocs + 1;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
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
  struct itimerval timer = {{0, 200}, {0, 200}};
  if (setitimer(ITIMER_REAL, &timer, NULL) != 0) return 1;
  for (long i = 0; i < n; ++i) {
    void* volatile p = malloc(40);
    free(p);
  }
  struct itimerval off;
  memset(&off, 0, sizeof off);
  setitimer(ITIMER_REAL, &off, NULL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGALRM);
  sigprocmask(SIG_BLOCK, &set, NULL);  // a last pending alarm must not run after the count
  robust_put_num(1, "handler=", g_handler_allocs);
  robust_put_num(1, "main=", n);
  return 0;
}
