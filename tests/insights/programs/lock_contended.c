/* Label ContentionBound: many threads fighting over one mutex with short critical sections.
   Waiters sleep in futex, so voluntary context switches and off-CPU time dominate. */
#include <pthread.h>
#include <stdio.h>

#include "common.h"

enum { kThreads = 16 };
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long counter;
static double end_time;

static void* worker(void* arg) {
  (void)arg;
  while (now_s() < end_time) {
    for (int i = 0; i < 100; ++i) {
      pthread_mutex_lock(&lock);
      /* A short critical section: long enough that others arrive while it is held. */
      for (int k = 0; k < 200; ++k) counter = counter + 1;
      pthread_mutex_unlock(&lock);
    }
  }
  return NULL;
}

int main(void) {
  pthread_t t[kThreads];
  end_time = now_s() + RUN_SECONDS;
  for (int i = 0; i < kThreads; ++i) pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < kThreads; ++i) pthread_join(t[i], NULL);
  printf("lock_contended: %lu increments\n", counter);
  return 0;
}
