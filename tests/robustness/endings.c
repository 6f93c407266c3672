// robust_endings MODE N: makes exactly N allocations on the main thread (N/2 of them freed),
// then ends the way MODE says. No stdio: the only allocations are the N shown here.
//   exit      exit(5)
//   _exit     _exit(3)
//   return    return 0 from main
//   abort     abort()
//   segv      write through a null pointer (SIGSEGV)
//   term      raise(SIGTERM)
//   threads   start 4 threads that allocate forever, then return 0 from main while they run
// Prints "allocated=N" on stdout before ending.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "robust_io.h"

static volatile int g_sink;

static void* allocate_forever(void* arg) {
  (void)arg;
  for (unsigned i = 0;; ++i) {
    char* p = malloc(32 + i % 64);
    if (p) {
      p[0] = (char)i;
      g_sink += p[0];
    }
    free(p);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    robust_put(2, "usage: robust_endings exit|_exit|return|abort|segv|term|threads N\n");
    return 2;
  }
  const char* mode = argv[1];
  long n = strtol(argv[2], NULL, 10);
  void** blocks = NULL;
  if (n > 0) {
    blocks = malloc((size_t)n * sizeof(void*));
    if (!blocks) return 1;
    blocks[0] = blocks;
    for (long i = 1; i < n; ++i) {
      blocks[i] = malloc((size_t)(16 + i % 200));
      if (!blocks[i]) return 1;
      memset(blocks[i], (int)i, 16);
    }
    for (long i = 1; i < n; i += 2) free(blocks[i]);
  }
  robust_put_num(1, "allocated=", n);

  if (strcmp(mode, "exit") == 0) exit(5);
  if (strcmp(mode, "_exit") == 0) _exit(3);
  if (strcmp(mode, "return") == 0) return 0;
  if (strcmp(mode, "abort") == 0) abort();
  if (strcmp(mode, "segv") == 0) {
    volatile int* volatile p = NULL;
    *p = 1;
    return 1;
  }
  if (strcmp(mode, "term") == 0) {
    raise(SIGTERM);
    return 1;
  }
  if (strcmp(mode, "threads") == 0) {
    for (int t = 0; t < 4; ++t) {
      pthread_t tid;
      if (pthread_create(&tid, NULL, allocate_forever, NULL) != 0) return 1;
    }
    // Let them get going, so that main returns while they are in the middle of allocating.
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    return 0;
  }
  robust_put(2, "robust_endings: unknown mode\n");
  return 2;
}
