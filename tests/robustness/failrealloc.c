/* robust_failrealloc: reallocs that fail must leave their blocks as they were, also in a sampled
 * trace. Allocates 100 blocks of 64 bytes, asks to grow each to SIZE_MAX / 4 (glibc refuses any
 * size above PTRDIFF_MAX and returns NULL, the block untouched), then frees every block.
 * Prints the number of blocks and of failed reallocs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BLOCKS = 100 };

int main(void) {
  void* blocks[BLOCKS];
  for (int i = 0; i < BLOCKS; ++i) {
    blocks[i] = malloc(64);
    if (blocks[i] == NULL) return 99;
    memset(blocks[i], i, 64);
  }
  size_t volatile huge = SIZE_MAX / 4;
  int failed = 0;
  for (int i = 0; i < BLOCKS; ++i) {
    void* p = realloc(blocks[i], huge);
    if (p == NULL) {
      ++failed;
    } else {
      blocks[i] = p;
    }
  }
  for (int i = 0; i < BLOCKS; ++i) free(blocks[i]);
  printf("failrealloc: blocks=%d failed=%d\n", BLOCKS, failed);
  return 0;
}
