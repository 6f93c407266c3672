/* Label MemoryBound: one thread making huge numbers of small malloc/free pairs and doing almost
   nothing else, so its time goes to the allocator. A small window of live blocks keeps the
   pattern realistic (not one block reused forever). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"

int main(void) {
  enum { kWindow = 64 };
  void* live[kWindow] = {0};
  uint64_t n = 0;
  double end = now_s() + RUN_SECONDS;
  while (now_s() < end) {
    for (int i = 0; i < 1000; ++i, ++n) {
      size_t slot = n % kWindow;
      free(live[slot]);
      live[slot] = malloc(16 + (n * 7) % 240);
      if (live[slot]) *(volatile char*)live[slot] = (char)n;
    }
  }
  for (int i = 0; i < kWindow; ++i) free(live[i]);
  printf("alloc_bound: %llu allocations\n", (unsigned long long)n);
  return 0;
}
