/* prog_alloc_basic: single-threaded malloc/calloc/free mix with intentional leaks.
 *
 * Exercises: malloc and calloc over a wide range of sizes (1 B to 4 KiB, a few 64 KiB+ blocks,
 * one 1 MiB block that glibc serves with mmap), frees in a scrambled (non-LIFO) order, and
 * LEAKED_BLOCKS blocks deliberately left live at exit. Everything is deterministic: the sizes
 * and the slot choices come from a fixed-seed LCG. No zero-size requests (DHAT records a 0-byte
 * block as 1 byte). Optional argv[1]: the exit status to return (prog_exec uses it).
 *
 * Prints the number of blocks and bytes it requested itself and a checksum of their contents. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SLOTS = 64, ROUNDS = 3000, LEAKED_BLOCKS = 7 };

static uint32_t lcg_state = 12345u;
static uint32_t next_u32(void) {
  lcg_state = lcg_state * 1664525u + 1013904223u;
  return lcg_state >> 8;
}

/* Pointers stored here escape, so the compiler cannot drop any allocation. */
static void* volatile sink;
static void* leaked[LEAKED_BLOCKS];
static unsigned long blocks_requested;
static unsigned long bytes_requested;

static unsigned char* checked(void* p) {
  if (!p) {
    fputs("allocation failed\n", stderr);
    exit(99);
  }
  sink = p;
  return (unsigned char*)p;
}

static unsigned char* my_malloc(size_t n) {
  ++blocks_requested;
  bytes_requested += n;
  return checked(malloc(n));
}

static unsigned char* my_calloc(size_t count, size_t size) {
  ++blocks_requested;
  bytes_requested += count * size;
  return checked(calloc(count, size));
}

int main(int argc, char** argv) {
  unsigned char* slots[SLOTS] = {0};
  size_t sizes[SLOTS] = {0};
  uint64_t checksum = 0;

  for (int round = 0; round < ROUNDS; ++round) {
    unsigned i = next_u32() % SLOTS;
    if (slots[i]) {
      checksum += slots[i][0] + slots[i][sizes[i] - 1];
      free(slots[i]);
      slots[i] = NULL;
      continue;
    }
    size_t n = 1 + next_u32() % 4096;
    if (round % 211 == 0) n = 65536 + (size_t)round;
    if (round % 3 == 0) {
      size_t count = 1 + n / 16;
      slots[i] = my_calloc(count, 16);
      sizes[i] = count * 16;
      checksum += slots[i][sizes[i] / 2]; /* calloc memory is zero */
    } else {
      slots[i] = my_malloc(n);
      sizes[i] = n;
      memset(slots[i], round & 0xff, n);
    }
  }

  /* One large block: above glibc's mmap threshold. */
  unsigned char* big = my_malloc(1u << 20);
  memset(big, 0x5a, 1u << 20);
  checksum += big[12345];
  free(big);

  /* Intentional leaks: distinct sizes so a report can tell them apart. */
  for (int k = 0; k < LEAKED_BLOCKS; ++k) {
    leaked[k] = my_malloc(100 + 10 * (size_t)k);
    memset(leaked[k], k, 100 + 10 * (size_t)k);
  }

  /* Free what is left in a scrambled order. */
  for (unsigned k = 0; k < SLOTS; ++k) {
    unsigned i = (k * 37u) % SLOTS;
    if (slots[i]) {
      checksum += slots[i][0];
      free(slots[i]);
    }
  }
  free(NULL); /* a no-op, counted nowhere */

  printf("alloc_basic: blocks=%lu bytes=%lu leaked=%d checksum=%llu\n", blocks_requested,
         bytes_requested, LEAKED_BLOCKS, (unsigned long long)checksum);
  return argc > 1 ? atoi(argv[1]) : 0;
}
