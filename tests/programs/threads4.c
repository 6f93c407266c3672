/* prog_threads4: four threads that free each other's memory.
 *
 * Exercises: allocation on one thread and free on another, in three ways: (1) each thread fills
 * its own table, then after a barrier frees the table of the next thread; (2) a second round
 * freed by the thread before; (3) a mutex-protected hand-off queue where threads 0 and 1 produce
 * blocks that threads 2 and 3 consume and free. Each thread also leaks LEAKS_PER_THREAD blocks.
 * All threads are created before any is joined, so glibc's per-thread start-up allocations (the
 * DTV) happen once per thread and never come from a reused stack.
 *
 * The counts are the same however the threads interleave; the peak is not (so it is not
 * compared for this program). Prints its own block and byte counts and a checksum. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  THREADS = 4,
  TABLE = 1000,
  HANDOFF_PER_PRODUCER = 1500,
  QUEUE_CAP = 64,
  LEAKS_PER_THREAD = 3
};

static void* table1[THREADS][TABLE];
static void* table2[THREADS][TABLE];
static void* leaked[THREADS][LEAKS_PER_THREAD];
static pthread_barrier_t barrier;

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t queue_not_full = PTHREAD_COND_INITIALIZER;
static unsigned char* queue[QUEUE_CAP];
static size_t queue_sizes[QUEUE_CAP];
static int queue_head, queue_count;

static uint64_t checksums[THREADS];
static unsigned long blocks[THREADS];
static unsigned long bytes[THREADS];
static void* volatile sink;

static unsigned char* alloc_block(int t, size_t n) {
  unsigned char* p = malloc(n);
  if (!p) {
    fputs("allocation failed\n", stderr);
    exit(99);
  }
  sink = p;
  memset(p, t + 1, n);
  ++blocks[t];
  bytes[t] += n;
  return p;
}

static size_t size_for(int t, int i, int round) {
  return 1 + (size_t)((t * 131 + i * 17 + round * 7) % 2000);
}

static void queue_push(unsigned char* p, size_t n) {
  pthread_mutex_lock(&queue_lock);
  while (queue_count == QUEUE_CAP) pthread_cond_wait(&queue_not_full, &queue_lock);
  int slot = (queue_head + queue_count) % QUEUE_CAP;
  queue[slot] = p;
  queue_sizes[slot] = n;
  ++queue_count;
  pthread_cond_signal(&queue_not_empty);
  pthread_mutex_unlock(&queue_lock);
}

static unsigned char* queue_pop(size_t* n) {
  pthread_mutex_lock(&queue_lock);
  while (queue_count == 0) pthread_cond_wait(&queue_not_empty, &queue_lock);
  unsigned char* p = queue[queue_head];
  *n = queue_sizes[queue_head];
  queue_head = (queue_head + 1) % QUEUE_CAP;
  --queue_count;
  pthread_cond_signal(&queue_not_full);
  pthread_mutex_unlock(&queue_lock);
  return p;
}

static void* worker(void* arg) {
  const int t = (int)(intptr_t)arg;
  uint64_t sum = 0;

  for (int i = 0; i < TABLE; ++i) table1[t][i] = alloc_block(t, size_for(t, i, 1));
  pthread_barrier_wait(&barrier);

  /* Round 1: free the next thread's table while allocating a second one. */
  const int next = (t + 1) % THREADS;
  for (int i = 0; i < TABLE; ++i) {
    sum += ((unsigned char*)table1[next][i])[0];
    free(table1[next][i]);
    table2[t][i] = alloc_block(t, size_for(t, i, 2));
  }
  pthread_barrier_wait(&barrier);

  /* Round 2: free the previous thread's second table. */
  const int prev = (t + THREADS - 1) % THREADS;
  for (int i = 0; i < TABLE; ++i) {
    sum += ((unsigned char*)table2[prev][i])[0];
    free(table2[prev][i]);
  }

  /* Round 3: hand-off queue, producers 0 and 1, consumers 2 and 3. */
  if (t < 2) {
    for (int i = 0; i < HANDOFF_PER_PRODUCER; ++i) {
      size_t n = size_for(t, i, 3);
      queue_push(alloc_block(t, n), n);
    }
  } else {
    for (int i = 0; i < HANDOFF_PER_PRODUCER; ++i) {
      size_t n = 0;
      unsigned char* p = queue_pop(&n);
      sum += p[n - 1];
      free(p);
    }
  }

  for (int k = 0; k < LEAKS_PER_THREAD; ++k) leaked[t][k] = alloc_block(t, 64 + 8 * (size_t)k);
  checksums[t] = sum;
  return NULL;
}

int main(void) {
  pthread_t threads[THREADS];
  pthread_barrier_init(&barrier, NULL, THREADS);
  for (int t = 0; t < THREADS; ++t) {
    if (pthread_create(&threads[t], NULL, worker, (void*)(intptr_t)t) != 0) {
      fputs("pthread_create failed\n", stderr);
      return 99;
    }
  }
  for (int t = 0; t < THREADS; ++t) pthread_join(threads[t], NULL);
  pthread_barrier_destroy(&barrier);

  unsigned long total_blocks = 0, total_bytes = 0;
  uint64_t checksum = 0;
  for (int t = 0; t < THREADS; ++t) {
    total_blocks += blocks[t];
    total_bytes += bytes[t];
    checksum += checksums[t];
  }
  printf("threads4: blocks=%lu bytes=%lu leaked=%d checksum=%llu\n", total_blocks, total_bytes,
         THREADS * LEAKS_PER_THREAD, (unsigned long long)checksum);
  return 0;
}
