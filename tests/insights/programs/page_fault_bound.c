/* Label MemoryBound (page-fault bound): two threads that allocate 1 MiB blocks, write one byte in
   every page and free them again, as fast as they can. Blocks above the (fixed) mmap threshold
   are fresh mappings, too small for huge pages, so every page touched is a minor fault in which
   the kernel zeroes and maps a page: most of the CPU is system time spent in the fault path,
   not the program's own computation, and the allocator is entered rarely. */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

enum { kThreads = 2, kBlock = 1 << 20 };

static void* toucher(void* arg) {
  unsigned long* blocks = arg;
  long page = sysconf(_SC_PAGESIZE);
  double end = now_s() + RUN_SECONDS;
  while (now_s() < end) {
    for (int b = 0; b < 16; ++b, ++*blocks) {
      volatile char* p = malloc(kBlock);
      if (!p) return NULL;
      for (long i = 0; i < kBlock; i += page) p[i] = (char)i;
      free((void*)p);
    }
  }
  return NULL;
}

int main(void) {
  mallopt(M_MMAP_THRESHOLD, 128 * 1024); /* fixed: glibc would otherwise raise it and reuse */
  pthread_t t[kThreads];
  unsigned long blocks[kThreads] = {0};
  for (int i = 1; i < kThreads; ++i) pthread_create(&t[i], NULL, toucher, &blocks[i]);
  toucher(&blocks[0]);
  for (int i = 1; i < kThreads; ++i) pthread_join(t[i], NULL);
  unsigned long total = 0;
  for (int i = 0; i < kThreads; ++i) total += blocks[i];
  printf("page_fault_bound: %lu blocks of 1 MiB touched\n", total);
  return 0;
}
