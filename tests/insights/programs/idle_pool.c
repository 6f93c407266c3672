/* Label CpuBound, and above all not ContentionBound: one thread computes all the time while a
   pool of 8 worker threads sleeps waiting for work that never comes (a condition variable with
   a 100 ms timeout, as thread pools do). The pool threads are off-CPU nearly all their lives and
   wake 10 times a second, yet they contend for nothing: the busy thread decides. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "common.h"

enum { kPool = 8 };
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static int stop;

static void* pool_worker(void* arg) {
  (void)arg;
  pthread_mutex_lock(&lock);
  while (!stop) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 100000000;
    if (until.tv_nsec >= 1000000000) until.tv_sec += 1, until.tv_nsec -= 1000000000;
    pthread_cond_timedwait(&work, &lock, &until);
  }
  pthread_mutex_unlock(&lock);
  return NULL;
}

int main(void) {
  pthread_t pool[kPool];
  for (int i = 0; i < kPool; ++i) pthread_create(&pool[i], NULL, pool_worker, NULL);
  double end = now_s() + RUN_SECONDS, x = 1.0;
  while (now_s() < end)
    for (int i = 0; i < 100000; ++i) x = sin(x) + 1.0001;
  pthread_mutex_lock(&lock);
  stop = 1;
  pthread_cond_broadcast(&work);
  pthread_mutex_unlock(&lock);
  for (int i = 0; i < kPool; ++i) pthread_join(pool[i], NULL);
  printf("idle_pool: %d idle workers, one busy thread (%f)\n", kPool, x);
  return 0;
}
