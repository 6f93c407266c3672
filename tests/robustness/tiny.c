// robust_tiny: makes three allocations, frees two, prints "tiny ok". Used as the exec'd image
// and wherever a test needs a small well-behaved program.
#include <stdlib.h>
#include <string.h>

#include "robust_io.h"

int main(void) {
  char* a = malloc(10);
  char* b = malloc(20);
  char* c = malloc(30);
  if (!a || !b || !c) return 1;
  memset(c, 0, 30);
  free(a);
  free(b);
  robust_put(1, "tiny ok\n");
  return c[0];
}
