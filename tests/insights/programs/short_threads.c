/* Eight threads of 50 ms of CPU each, shorter than a few of the collector's sampling intervals:
   each prints its tid and its own CPU time (CLOCK_THREAD_CPUTIME_ID) when its work is done, the
   oracle that check_ranking.py holds thread_performance_ranking to. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

enum { kThreads = 8 };
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void* worker(void* arg) {
  (void)arg;
  volatile double x = 1.0;
  while (thread_cpu_ns() < 50000000u)
    for (int i = 0; i < 10000; ++i) x = x * 1.0000001 + 0.5;
  uint64_t cpu = thread_cpu_ns();
  pthread_mutex_lock(&print_lock);
  printf("thread %d %llu\n", (int)gettid(), (unsigned long long)cpu);
  pthread_mutex_unlock(&print_lock);
  return NULL;
}

int main(void) {
  pthread_t t[kThreads];
  for (int i = 0; i < kThreads; ++i) pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < kThreads; ++i) pthread_join(t[i], NULL);
  return 0;
}
