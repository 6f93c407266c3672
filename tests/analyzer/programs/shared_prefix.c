/* 10,000 allocation sites below one 40-frame prefix: descend() recurses 40 times, then each of
 * 100 callers calls each of 100 allocators, so every site's stack is the same 40 frames plus a
 * caller and an allocator of its own. The JSON must hold each of those frames once (issue 13). */
#include <stdlib.h>

#define REPEAT10(M, P) M(P##0) M(P##1) M(P##2) M(P##3) M(P##4) M(P##5) M(P##6) M(P##7) M(P##8) M(P##9)
#define REPEAT100(M) REPEAT10(M, 1) REPEAT10(M, 2) REPEAT10(M, 3) REPEAT10(M, 4) REPEAT10(M, 5) \
  REPEAT10(M, 6) REPEAT10(M, 7) REPEAT10(M, 8) REPEAT10(M, 9) REPEAT10(M, 10)

static void* volatile sink;

#define ALLOCATOR(N) \
  __attribute__((noinline)) static void allocate_##N(void) { sink = malloc(N + 1); free(sink); }
REPEAT100(ALLOCATOR)

#define ALLOCATOR_ENTRY(N) allocate_##N,
static void (*const allocators[100])(void) = {REPEAT100(ALLOCATOR_ENTRY)};

/* Each caller calls every allocator from its own call instruction: 100 stacks per caller. */
#define CALLER(N)                                                          \
  __attribute__((noinline)) static void caller_##N(void) {                 \
    for (int i = 0; i < 100; ++i) allocators[i]();                         \
  }
REPEAT100(CALLER)

#define CALLER_ENTRY(N) caller_##N,
static void (*const callers[100])(void) = {REPEAT100(CALLER_ENTRY)};

__attribute__((noinline)) static void descend(int depth) {
  if (depth > 0) {
    descend(depth - 1);
    sink = 0; /* not a tail call: every level keeps its frame */
    return;
  }
  for (int i = 0; i < 100; ++i) callers[i]();
}

int main(void) {
  descend(40);
  return 0;
}
