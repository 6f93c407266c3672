/* Label Balanced: a paced loop that uses a little of everything and saturates nothing: about
   5 ms of computation, a few dozen small allocations and a 4 KiB buffered write, then 5 ms of
   sleep, 100 times a second. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common.h"

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "balanced.dat";
  FILE* f = fopen(path, "w");
  if (!f) {
    perror(path);
    return 1;
  }
  double end = now_s() + RUN_SECONDS, x = 1.0;
  char line[4096];
  unsigned long rounds = 0;
  while (now_s() < end) {
    double busy_until = now_s() + 0.005;
    while (now_s() < busy_until)
      for (int i = 0; i < 1000; ++i) x = sin(x) + 1.0001;
    void* blocks[32];
    for (int i = 0; i < 32; ++i) blocks[i] = malloc(64 + (size_t)i * 8);
    for (int i = 0; i < 32; ++i) free(blocks[i]);
    for (size_t i = 0; i < sizeof(line); ++i) line[i] = (char)('a' + (rounds + i) % 26);
    fwrite(line, 1, sizeof(line), f);
    struct timespec nap = {0, 5000000};
    nanosleep(&nap, NULL);
    ++rounds;
  }
  fclose(f);
  remove(path);
  printf("balanced: %lu rounds (%f)\n", rounds, x);
  return 0;
}
