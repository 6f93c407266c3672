/* prog_aligned: the aligned allocation family, with frees and two leaks.
 *
 * Exercises: posix_memalign (alignments 8 B to 4 KiB, and one invalid alignment that must fail
 * with EINVAL and allocate nothing), aligned_alloc, memalign (up to 8 KiB alignment), valloc and
 * pvalloc. Every returned pointer is checked for its alignment.
 *
 * pvalloc: valgrind 3.19's DHAT aborts the program on pvalloc ("Program aborting because of call
 * to pvalloc"), so under valgrind (detected by its vgpreload library in LD_PRELOAD) this program
 * calls memalign(page size, n) instead, which is exactly how valgrind's own replacement
 * implements pvalloc. The sizes given to pvalloc are whole pages, so glibc's rounding up to a
 * page changes nothing and both runs request the same bytes. Output is identical either way.
 *
 * Prints the number of blocks and bytes it requested itself and a checksum. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_BLOCKS = 256 };

static void* volatile sink;
static void* leaked[2];
static unsigned long blocks_requested;
static unsigned long bytes_requested;
static unsigned long misaligned;
static uint64_t checksum;
static void* blocks[MAX_BLOCKS];
static int nblocks;

static void keep(void* p, size_t n, size_t alignment) {
  if (!p) {
    fputs("allocation failed\n", stderr);
    exit(99);
  }
  if ((uintptr_t)p % alignment != 0) ++misaligned;
  sink = p;
  memset(p, (int)(n & 0xff), n);
  checksum += ((unsigned char*)p)[n - 1] + n;
  ++blocks_requested;
  bytes_requested += n;
  blocks[nblocks++] = p;
}

static int under_valgrind(void) {
  const char* preload = getenv("LD_PRELOAD");
  return preload != NULL && strstr(preload, "vgpreload") != NULL;
}

int main(void) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);

  for (size_t align = sizeof(void*); align <= 4096; align *= 2) {
    void* p = NULL;
    size_t n = 3 * align / 2 + 5;
    int rc = posix_memalign(&p, align, n);
    if (rc != 0) {
      fprintf(stderr, "posix_memalign(%zu) failed: %d\n", align, rc);
      return 99;
    }
    keep(p, n, align);
  }

  /* Invalid alignment (not a power of two): EINVAL, nothing allocated, p untouched. */
  void* bad = &checksum;
  size_t volatile bad_align = 24;
  int rc = posix_memalign(&bad, bad_align, 100);
  if (rc != EINVAL || bad != &checksum) {
    fputs("posix_memalign with alignment 24 did not fail cleanly\n", stderr);
    return 98;
  }

  for (size_t align = 16; align <= 1024; align *= 4) {
    size_t n = align * 5; /* a multiple of the alignment, as C11 asks */
    keep(aligned_alloc(align, n), n, align);
  }

  for (size_t align = 32; align <= 8192; align *= 2) {
    size_t n = align + 17;
    keep(memalign(align, n), n, align);
  }

  for (size_t n = 100; n <= 20000; n *= 3) keep(valloc(n), n, page);

  const int pv = under_valgrind();
  for (size_t pages = 1; pages <= 3; ++pages) {
    size_t n = pages * page;
    keep(pv ? memalign(page, n) : pvalloc(n), n, page);
  }

  /* Free every block except two, in an order different from allocation. */
  leaked[0] = blocks[3];
  leaked[1] = blocks[nblocks - 2];
  for (int k = nblocks - 1; k >= 0; --k) {
    if (k != 3 && k != nblocks - 2) free(blocks[k]);
  }

  printf("aligned: blocks=%lu bytes=%lu leaked=2 misaligned=%lu checksum=%llu\n", blocks_requested,
         bytes_requested, misaligned, (unsigned long long)checksum);
  return misaligned == 0 ? 0 : 1;
}
