// robust_hammer THREADS N [HOLD]: THREADS threads (started together behind a barrier) each make
// N malloc/free pairs of 8 + i % 64 bytes as fast as they can: more events than the sidecar can
// drain from a small ring. With HOLD (at most 20000), each thread keeps its latest HOLD blocks
// live and frees each one HOLD allocations later (the rest at its end): a large live heap. Each
// thread's exact count is N allocations and N frees. No stdio.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>

#include "robust_io.h"

enum { kMaxHold = 20000 };
static long g_n;
static long g_hold;
static pthread_barrier_t g_start;

static void* hammer(void* arg) {
  (void)arg;
  void* held[kMaxHold];
  pthread_barrier_wait(&g_start);
  for (long i = 0; i < g_n; ++i) {
    void* volatile p = malloc((size_t)(8 + i % 64));
    if (g_hold == 0) {
      free(p);
      continue;
    }
    if (i >= g_hold) free(held[i % g_hold]);
    held[i % g_hold] = p;
  }
  for (long i = g_n > g_hold ? g_n - g_hold : 0; i < g_n && g_hold > 0; ++i) free(held[i % g_hold]);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    robust_put(2, "usage: robust_hammer THREADS N [HOLD]\n");
    return 2;
  }
  long threads = strtol(argv[1], NULL, 10);
  g_n = strtol(argv[2], NULL, 10);
  g_hold = argc == 4 ? strtol(argv[3], NULL, 10) : 0;
  if (threads < 1 || threads > 64 || g_hold < 0 || g_hold > kMaxHold) return 2;
  pthread_t t[64];
  pthread_barrier_init(&g_start, NULL, (unsigned)threads);
  for (long i = 0; i < threads; ++i)
    if (pthread_create(&t[i], NULL, hammer, NULL) != 0) return 1;
  for (long i = 0; i < threads; ++i) pthread_join(t[i], NULL);
  pthread_barrier_destroy(&g_start);
  robust_put_num(1, "pairs=", threads * g_n);
  return 0;
}
