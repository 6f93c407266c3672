/* Label Balanced, with no allocation_churn recommendation: a program that mostly sleeps (a driver
   waiting for its children, a server between requests) and allocates a little when it wakes:
   ten 88-byte blocks every 10 ms. Per second of its tiny CPU time that is many allocator calls,
   but a thousand a second limit nothing and pooling them would save nothing. */
#include <stdlib.h>
#include <stdio.h>
#include <time.h>

#include "common.h"

int main(void) {
  unsigned long n = 0;
  double end = now_s() + RUN_SECONDS;
  while (now_s() < end) {
    void* blocks[10];
    for (int i = 0; i < 10; ++i, ++n) blocks[i] = malloc(88);
    for (int i = 0; i < 10; ++i) free(blocks[i]);
    struct timespec nap = {0, 10000000};
    nanosleep(&nap, NULL);
  }
  printf("sleepy_allocator: %lu allocations\n", n);
  return 0;
}
