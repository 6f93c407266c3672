/* prog_signal_alloc: signal handlers that allocate.
 *
 * Phase 1: raise(SIGUSR1) in a loop; the handler runs synchronously, allocates two blocks,
 *          frees one and keeps the other in a table (every 25th kept block is leaked).
 * Phase 2: a 1 ms ITIMER_REAL timer; each SIGALRM handler allocates and frees a block until
 *          ALARMS handlers have allocated. The main thread only sleeps (nanosleep, which does not
 *          allocate) while the timer runs, so a handler never interrupts malloc, and a ticket
 *          counter makes extra late signals allocate nothing: the counts do not depend on timing,
 *          nor on which thread the kernel picks to run a SIGALRM handler.
 * Single-threaded program; deterministic counts and peak. Prints a checksum. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

enum { RAISES = 400, ALARMS = 40 };

static void* volatile sink;
static unsigned char* kept[RAISES];
static volatile sig_atomic_t raised;
static atomic_int alarm_tickets;
static atomic_int alarms_done;
static atomic_ullong checksum;

static unsigned char* alloc(size_t n) {
  unsigned char* p = malloc(n);
  if (!p) abort();
  sink = p;
  memset(p, (int)(n & 0x7f), n);
  atomic_fetch_add(&checksum, p[n - 1]);
  return p;
}

static void on_usr1(int sig) {
  (void)sig;
  int i = raised;
  unsigned char* scratch = alloc(16 + (size_t)(i % 200));
  kept[i] = alloc(8 + (size_t)(i % 64) * 4);
  free(scratch);
  raised = i + 1;
}

static void on_alarm(int sig) {
  (void)sig;
  int ticket = atomic_fetch_add(&alarm_tickets, 1);
  if (ticket >= ALARMS) return;
  free(alloc(100 + (size_t)ticket * 10));
  atomic_fetch_add(&alarms_done, 1);
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_usr1;
  if (sigaction(SIGUSR1, &sa, NULL) != 0) return 90;
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGALRM, &sa, NULL) != 0) return 91;

  for (int i = 0; i < RAISES; ++i) raise(SIGUSR1);
  if (raised != RAISES) return 92;
  for (int i = 0; i < RAISES; ++i) {
    if (i % 25 != 0) free(kept[i]);
  }

  struct itimerval timer = {{0, 1000}, {0, 1000}};
  if (setitimer(ITIMER_REAL, &timer, NULL) != 0) return 93;
  while (atomic_load(&alarms_done) < ALARMS) {
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);

  printf("signal_alloc: raises=%d alarms=%d leaked=%d checksum=%llu\n", RAISES, ALARMS, RAISES / 25,
         (unsigned long long)atomic_load(&checksum));
  return 0;
}
