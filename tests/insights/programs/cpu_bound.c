/* Label CpuBound: one thread per online core doing floating-point work, no allocation, no IO,
   no blocking. Threads are on-CPU (or waiting for one) all the time. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "common.h"

static void* spin(void* arg) {
  volatile double* sink = arg;
  double end = now_s() + RUN_SECONDS, x = 1.0;
  while (now_s() < end)
    for (int i = 0; i < 100000; ++i) x = sin(x) + 1.0001;
  *sink = x;
  return NULL;
}

int main(void) {
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (cores < 1) cores = 1;
  if (cores > 64) cores = 64;
  pthread_t t[64];
  volatile double sink[64];
  for (long i = 1; i < cores; ++i) pthread_create(&t[i], NULL, spin, (void*)&sink[i]);
  spin((void*)&sink[0]);
  for (long i = 1; i < cores; ++i) pthread_join(t[i], NULL);
  printf("cpu_bound: %ld threads done\n", cores);
  return 0;
}
