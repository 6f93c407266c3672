// robust_crossfree N: a producer thread allocates N blocks (16 + i % 256 bytes) and hands each
// pointer through a lock-free single-producer/single-consumer queue to a consumer thread, which
// frees it. Both run at once, so frees on one thread chase allocations on the other. Expected:
// the producer N allocations and 0 frees, the consumer 0 allocations and N frees. No stdio.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "robust_io.h"

#define QUEUE 4096
static void* g_queue[QUEUE];
static atomic_long g_head;  // next to consume
static atomic_long g_tail;  // next to produce
static long g_n;

static void* producer(void* arg) {
  (void)arg;
  for (long i = 0; i < g_n; ++i) {
    void* p = malloc((size_t)(16 + i % 256));
    if (p) memset(p, 1, 8);
    long tail = atomic_load_explicit(&g_tail, memory_order_relaxed);
    while (tail - atomic_load_explicit(&g_head, memory_order_acquire) >= QUEUE) sched_yield();
    g_queue[tail % QUEUE] = p;
    atomic_store_explicit(&g_tail, tail + 1, memory_order_release);
  }
  return NULL;
}

static void* consumer(void* arg) {
  (void)arg;
  for (long i = 0; i < g_n; ++i) {
    while (atomic_load_explicit(&g_tail, memory_order_acquire) <= i) sched_yield();
    free(g_queue[i % QUEUE]);
    atomic_store_explicit(&g_head, i + 1, memory_order_release);
  }
  return NULL;
}

int main(int argc, char** argv) {
  g_n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
  pthread_t p, c;
  if (pthread_create(&c, NULL, consumer, NULL) != 0) return 1;
  if (pthread_create(&p, NULL, producer, NULL) != 0) return 1;
  pthread_join(p, NULL);
  pthread_join(c, NULL);
  robust_put_num(1, "passed=", g_n);
  return 0;
}
