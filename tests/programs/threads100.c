/* prog_threads100: 100 threads, each doing the same fixed amount of allocation.
 *
 * Exercises: many short-lived threads (thread registry, per-thread buffers, thread exit and TLS
 * teardown while the agent is running). Each thread makes ALLOCS_PER_THREAD blocks of sizes that
 * depend only on its index, frees all but one, and leaks the last one. All 100 threads are created
 * before the first join, so glibc allocates one DTV per thread and never reuses a cached stack:
 * the counts do not depend on scheduling. The peak does, so it is not compared.
 *
 * Prints its own block and byte counts and a checksum. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { THREADS = 100, ALLOCS_PER_THREAD = 50, LIVE = 8 };

static void* leaked[THREADS];
static uint64_t checksums[THREADS];
static void* volatile sink;

static void* worker(void* arg) {
  const int t = (int)(intptr_t)arg;
  unsigned char* live[LIVE] = {0};
  uint64_t sum = 0;
  for (int i = 0; i < ALLOCS_PER_THREAD; ++i) {
    size_t n = 1 + (size_t)((t * 37 + i * 101) % 3000);
    unsigned char* p = malloc(n);
    if (!p) {
      fputs("allocation failed\n", stderr);
      exit(99);
    }
    sink = p;
    memset(p, i, n);
    int slot = i % LIVE;
    if (live[slot]) {
      sum += live[slot][0];
      free(live[slot]);
    }
    live[slot] = p;
  }
  /* Keep the last block (slot of the last allocation) as the leak, free the others. */
  int keep = (ALLOCS_PER_THREAD - 1) % LIVE;
  for (int s = 0; s < LIVE; ++s) {
    if (s == keep) continue;
    sum += live[s][0];
    free(live[s]);
  }
  leaked[t] = live[keep];
  checksums[t] = sum;
  return NULL;
}

int main(void) {
  pthread_t threads[THREADS];
  for (int t = 0; t < THREADS; ++t) {
    if (pthread_create(&threads[t], NULL, worker, (void*)(intptr_t)t) != 0) {
      fputs("pthread_create failed\n", stderr);
      return 99;
    }
  }
  for (int t = 0; t < THREADS; ++t) pthread_join(threads[t], NULL);

  unsigned long bytes = 0;
  uint64_t checksum = 0;
  for (int t = 0; t < THREADS; ++t) {
    checksum += checksums[t];
    for (int i = 0; i < ALLOCS_PER_THREAD; ++i) bytes += 1 + (size_t)((t * 37 + i * 101) % 3000);
  }
  printf("threads100: blocks=%d bytes=%lu leaked=%d checksum=%llu\n", THREADS * ALLOCS_PER_THREAD,
         bytes, THREADS, (unsigned long long)checksum);
  return 0;
}
