/* prog_realloc_chain: realloc in every shape DHAT and memscope must agree on.
 *
 * Exercises: realloc(NULL, n) (a plain new block), growth by doubling from 16 B to 256 KiB
 * (crossing glibc's mmap threshold, so both in-place growth, moves and mremap happen), shrinking
 * back down, realloc to the same size, realloc(p, 0) (a free that returns NULL), eight
 * interleaved chains growing in small steps, reallocarray (new, grow, and an overflowing request
 * that must fail without allocating or freeing anything), and one chain deliberately leaked.
 * Counting rule checked: every successful realloc to a non-zero size is a new block of the new
 * size plus a free of the old one, whether it grows, shrinks or keeps its size.
 *
 * Prints the number of blocks and bytes it requested itself and a checksum. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CHAINS = 8, STEPS = 100 };

static void* volatile sink;
static void* leaked_chain;
static unsigned long blocks_requested;
static unsigned long bytes_requested;
static uint64_t checksum;

static unsigned char* checked(void* p) {
  if (!p) {
    fputs("allocation failed\n", stderr);
    exit(99);
  }
  sink = p;
  return (unsigned char*)p;
}

/* realloc to a non-zero size: counts as one new block of n bytes. */
static unsigned char* grow(void* p, size_t n) {
  ++blocks_requested;
  bytes_requested += n;
  unsigned char* q = checked(realloc(p, n));
  if (p == NULL) memset(q, 0x11, n); /* a new block: nothing to keep, nothing read uninitialized */
  q[n - 1] = (unsigned char)n;
  checksum += q[0] + q[n - 1];
  return q;
}

int main(void) {
  /* 1. realloc(NULL, n) behaves as malloc. */
  unsigned char* p = grow(NULL, 16);
  memset(p, 1, 16);

  /* 2. Grow by doubling up to 256 KiB, then shrink by halving down to 8 bytes. */
  size_t n = 16;
  while (n < (256u << 10)) {
    n *= 2;
    p = grow(p, n);
  }
  while (n > 8) {
    n /= 2;
    p = grow(p, n);
  }

  /* 3. Same size: still a new block in DHAT's counting. */
  p = grow(p, n);
  p = grow(p, n);

  /* 4. realloc(p, 0) frees p and returns NULL (glibc's behaviour). */
  size_t volatile zero = 0;
  void* r = realloc(p, zero);
  sink = r;
  if (r != NULL) {
    fputs("realloc(p, 0) returned a block\n", stderr);
    return 98;
  }

  /* 5. Eight interleaved chains, growing by 24 bytes per step, then shrinking once. */
  unsigned char* chains[CHAINS];
  for (int c = 0; c < CHAINS; ++c) chains[c] = grow(NULL, 8 + (size_t)c);
  for (int s = 1; s <= STEPS; ++s) {
    for (int c = 0; c < CHAINS; ++c) {
      chains[c] = grow(chains[c], 8 + (size_t)c + 24 * (size_t)s);
    }
  }
  for (int c = 0; c < CHAINS; ++c) chains[c] = grow(chains[c], 40 + (size_t)c);

  /* 6. reallocarray: new, grow, and an overflowing request that fails and leaves q intact. */
  ++blocks_requested;
  bytes_requested += 10 * 8;
  unsigned char* q = checked(reallocarray(NULL, 10, 8));
  ++blocks_requested;
  bytes_requested += 30 * 8;
  q = checked(reallocarray(q, 30, 8));
  size_t volatile huge = SIZE_MAX / 4;
  void* failed = reallocarray(q, huge, 16);
  sink = failed;
  if (failed != NULL) {
    fputs("overflowing reallocarray succeeded\n", stderr);
    return 97;
  }
  q[0] = 3;
  checksum += q[0];
  free(q);

  /* 7. Free all chains but the last, which leaks. */
  for (int c = 0; c < CHAINS - 1; ++c) free(chains[c]);
  leaked_chain = chains[CHAINS - 1];

  printf("realloc_chain: blocks=%lu bytes=%lu leaked=1 checksum=%llu\n", blocks_requested,
         bytes_requested, (unsigned long long)checksum);
  return 0;
}
