// robust_mimalloc: linked against Debian's libmimalloc, which overrides malloc because it is in
// the global scope (a DT_NEEDED of the executable). Under memscope the program must keep that
// allocator: a block from malloc must lie in mimalloc's heap. Exit 0 on success.
#include <mimalloc.h>
#include <stdlib.h>
#include <string.h>

#include "robust_io.h"

int main(void) {
  char* p = malloc(100);
  if (!p) return 1;
  memset(p, 1, 100);
  int ok = mi_is_in_heap_region(p) ? 1 : 0;
  free(p);
  robust_put(1, ok ? "mimalloc malloc: ok\n" : "mimalloc malloc: NOT mimalloc's\n");
  return ok ? 0 : 1;
}
