// A program with a large heap live at exit, for bench/leak_scan_cost: MIB mebibytes in blocks of
// BLOCK bytes, chained into one list from a global (every block reachable through the previous
// one, the deepest case for a scan that follows pointers), then a normal exit.
// Usage: bench_live_heap [MIB [BLOCK]]   (default 512 MiB in 4096-byte blocks)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void** volatile g_head;

int main(int argc, char** argv) {
  long mib = argc > 1 ? strtol(argv[1], NULL, 10) : 512;
  long block = argc > 2 ? strtol(argv[2], NULL, 10) : 4096;
  if (mib <= 0 || block < (long)sizeof(void*)) {
    fputs("usage: bench_live_heap [MIB [BLOCK]] (BLOCK at least 8)\n", stderr);
    return 2;
  }
  long count = mib * 1024 * 1024 / block;
  for (long i = 0; i < count; ++i) {
    void** b = malloc((size_t)block);
    if (b == NULL) return 1;
    memset(b, 0, (size_t)block);
    b[0] = (void*)g_head;
    g_head = b;
  }
  printf("live_heap: %ld blocks of %ld B\n", count, block);
  return 0;
}
