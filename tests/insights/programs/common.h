/* Shared by the labelled insight programs: a monotonic clock and the run length. Each program
   runs about RUN_SECONDS so the sidecar takes dozens of samples on a noisy 2-core machine. */
#ifndef INSIGHTS_COMMON_H
#define INSIGHTS_COMMON_H
#include <time.h>

#define RUN_SECONDS 3.5

static inline double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
#endif
