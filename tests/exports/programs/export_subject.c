// Test subject of the export and CI-gate tests: a program whose figures are known by design.
// hot_allocator is the top allocating function by far (SCALE x 400 blocks of 64 KiB, all freed);
// leaky_function leaks 8 blocks of 100000 bytes unless --clean is given (then it frees them);
// a thread named "exp-worker" allocates SCALE x 100 blocks of 1 KiB (with --clean the main thread
// does that work instead). SCALE is the first non-option argument (default 1), so a run with 2
// allocates twice as much, for `compare`.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static volatile unsigned char sink;

__attribute__((noinline)) static void hot_allocator(int scale) {
  for (int i = 0; i < scale * 400; ++i) {
    unsigned char* p = malloc(64 * 1024);
    p[0] = (unsigned char)i;
    sink = p[0];
    free(p);
  }
}

__attribute__((noinline)) static void* leaky_function(int clean) {
  void* blocks[8];
  for (int i = 0; i < 8; ++i) {
    blocks[i] = malloc(100000);
    memset(blocks[i], 1, 100000);
  }
  if (clean)
    for (int i = 0; i < 8; ++i) free(blocks[i]);
  return clean ? NULL : blocks[0];
}

__attribute__((noinline)) static void* worker(void* arg) {
  int scale = *(int*)arg;
  pthread_setname_np(pthread_self(), "exp-worker");
  for (int i = 0; i < scale * 100; ++i) {
    char* p = malloc(1024);
    p[0] = 1;
    sink = (unsigned char)p[0];
    free(p);
  }
  return NULL;
}

int main(int argc, char** argv) {
  int clean = 0, scale = 1;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--clean") == 0)
      clean = 1;
    else
      scale = atoi(argv[i]);
  }
  // glibc keeps a thread's TLS block (272 bytes) cached after the join, a leak by the trace's
  // measure: the clean run works on the main thread, so it leaks nothing at all.
  if (clean) {
    worker(&scale);
  } else {
    pthread_t t;
    if (pthread_create(&t, NULL, worker, &scale) != 0) return 1;
    pthread_join(t, NULL);
  }
  hot_allocator(scale);
  leaky_function(clean);
  return 0;
}
