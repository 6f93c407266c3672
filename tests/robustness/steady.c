// robust_steady [SECONDS]: allocates steadily (about 20 allocations per millisecond) for
// SECONDS (default 2). Prints "pid=P" at the start, then at one second "count=C": C is the
// number of allocations made before that line was printed. The test kills it with SIGKILL half
// a second later and expects the trace to hold at least C allocations.
#define _GNU_SOURCE
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "robust_io.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? strtod(argv[1], NULL) : 2.0;
  robust_put_num(1, "pid=", (long long)getpid());
  double start = now_s();
  long long count = 0;
  int marked = 0;
  void* keep[64] = {0};
  for (;;) {
    for (int i = 0; i < 20; ++i) {
      void* p = malloc((size_t)(24 + (count % 100)));
      ++count;
      size_t slot = (size_t)(count % 64);
      free(keep[slot]);
      keep[slot] = p;
    }
    double t = now_s() - start;
    if (!marked && t >= 1.0) {
      robust_put_num(1, "count=", count);
      marked = 1;
    }
    if (t >= seconds) break;
    struct timespec ts = {0, 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  robust_put_num(1, "done=", count);
  return 0;
}
