// robust_mallinfo: proves the traced program still allocates from glibc's malloc: after ten
// 1000-byte allocations, glibc's own accounting (mallinfo2().uordblks) must have grown by at
// least 10000 bytes, and malloc_usable_size must report at least the requested size. (Not
// checked: that uordblks shrinks on free; glibc's tcache keeps freed blocks counted in use.)
// Exit 0 on success, 1 with a message otherwise.
#define _GNU_SOURCE
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "robust_io.h"

int main(void) {
  struct mallinfo2 before = mallinfo2();
  void* blocks[10];
  for (int i = 0; i < 10; ++i) {
    blocks[i] = malloc(1000);
    if (!blocks[i]) return 1;
    memset(blocks[i], i, 1000);
  }
  struct mallinfo2 after = mallinfo2();
  int ok = 1;
  if (after.uordblks < before.uordblks + 10000) {
    robust_put_num(
        2, "robust_mallinfo: uordblks did not grow by 10000; before=", (long long)before.uordblks);
    robust_put_num(2, "robust_mallinfo: after=", (long long)after.uordblks);
    ok = 0;
  }
  for (int i = 0; i < 10; ++i) {
    size_t usable = malloc_usable_size(blocks[i]);
    if (usable < 1000 || usable > 1000 + 64) {
      robust_put_num(2, "robust_mallinfo: malloc_usable_size gave ", (long long)usable);
      ok = 0;
    }
    free(blocks[i]);
  }
  robust_put(1, ok ? "glibc malloc: ok\n" : "glibc malloc: NOT glibc's\n");
  return ok ? 0 : 1;
}
