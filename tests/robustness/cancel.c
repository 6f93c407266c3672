// robust_cancel MS: a worker thread loops forever making malloc/free pairs, with a cancellation
// point (pthread_testcancel) after each pair and a cleanup handler that frees the one block it
// holds across the loop. After MS milliseconds the main thread cancels it, joins it, checks it
// was cancelled, and prints how many allocations the worker made ("worker=N", the held block
// included) and "cancelled=1". The worker's count is exact: a pair is counted before the next
// cancellation point. No stdio; libgcc_s (which glibc loads to unwind a cancelled thread) is
// loaded up front by a first cancellation of a thread that allocates nothing.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "robust_io.h"

static volatile long g_worker_allocs;
static void* volatile g_held;  // the block escapes: the compiler may not drop its malloc/free

static void release(void* p) {
  free(p);
}

static void* idle(void* arg) {
  (void)arg;
  for (;;) pthread_testcancel();
  return NULL;
}

static void* worker(void* arg) {
  (void)arg;
  void* held = malloc(4096);
  g_held = held;
  g_worker_allocs = 1;
  pthread_cleanup_push(release, held);
  for (long i = 0;; ++i) {
    void* volatile p = malloc((size_t)(64 + i % 128));
    g_worker_allocs = g_worker_allocs + 1;
    free(p);
    pthread_testcancel();
  }
  pthread_cleanup_pop(1);
  return NULL;
}

static int cancel_after(void* (*fn)(void*), long ms) {
  pthread_t t;
  if (pthread_create(&t, NULL, fn, NULL) != 0) return 0;
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  void* result = NULL;
  if (pthread_cancel(t) != 0 || pthread_join(t, &result) != 0) return 0;
  return result == PTHREAD_CANCELED;
}

int main(int argc, char** argv) {
  long ms = argc > 1 ? strtol(argv[1], NULL, 10) : 200;
  if (!cancel_after(idle, 10)) return 1;
  int ok = cancel_after(worker, ms);
  robust_put_num(1, "worker=", g_worker_allocs);
  robust_put_num(1, "cancelled=", ok);
  return ok ? 0 : 1;
}
