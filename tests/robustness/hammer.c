// robust_hammer THREADS N: THREADS threads (started together behind a barrier) each make N
// malloc/free pairs of 8 + i % 64 bytes as fast as they can: more events than the sidecar can
// drain from a small ring. Each thread's exact count is N allocations and N frees. No stdio.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>

#include "robust_io.h"

static long g_n;
static pthread_barrier_t g_start;

static void* hammer(void* arg) {
  (void)arg;
  pthread_barrier_wait(&g_start);
  for (long i = 0; i < g_n; ++i) {
    void* volatile p = malloc((size_t)(8 + i % 64));
    free(p);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    robust_put(2, "usage: robust_hammer THREADS N\n");
    return 2;
  }
  long threads = strtol(argv[1], NULL, 10);
  g_n = strtol(argv[2], NULL, 10);
  if (threads < 1 || threads > 64) return 2;
  pthread_t t[64];
  pthread_barrier_init(&g_start, NULL, (unsigned)threads);
  for (long i = 0; i < threads; ++i)
    if (pthread_create(&t[i], NULL, hammer, NULL) != 0) return 1;
  for (long i = 0; i < threads; ++i) pthread_join(t[i], NULL);
  pthread_barrier_destroy(&g_start);
  robust_put_num(1, "pairs=", threads * g_n);
  return 0;
}
