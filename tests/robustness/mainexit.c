// robust_mainexit MODE K: the main thread leaves before the other threads, which then finish.
// Three workers wait until the main thread is gone (worker 0 joins it, the others wait on a
// barrier with worker 0), then each makes K malloc/free pairs of 24 bytes and the last one out
// ends the process. The main thread allocates a 77777-byte block that an atexit handler frees
// (printing "atexit" with write), and prints "workers=3" with printf: on a pipe, stdio holds
// that line until exit() flushes it.
//   pthread_exit       the main thread calls pthread_exit: glibc's last thread calls exit(0),
//                      so the atexit line and the printf line appear and the status is 0.
//   pthread_exit_wait  the same, but the workers block for ever after their pairs, having
//                      printed "ready": whoever runs it ends it with SIGTERM.
//   seccomp CODE       the main thread enters seccomp strict mode, makes 100 malloc/free pairs
//                      (from the tcache: no system call), prints "sealed" with write and leaves
//                      with a raw SYS_exit(CODE). glibc never counts it out, so no thread calls
//                      exit(): no atexit line, the printf line is lost, and the kernel reports
//                      the main thread's CODE as the process's status.
//   seccomp_kill       the main thread enters seccomp strict mode and returns from main: the
//                      atexit line appears, then exit_group is forbidden and SIGKILL ends it.
#define _GNU_SOURCE
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "robust_io.h"

enum { kWorkers = 3 };

static pthread_t g_main;
static pthread_barrier_t g_gone;
static long g_pairs;
static int g_wait_forever;
static void* volatile g_block;

static void at_exit(void) {
  free(g_block);
  robust_put(1, "atexit\n");
}

static void* worker(void* arg) {
  if (arg == NULL) pthread_join(g_main, NULL);
  pthread_barrier_wait(&g_gone);
  for (long i = 0; i < g_pairs; ++i) {
    void* volatile p = malloc(24);
    free(p);
  }
  if (!g_wait_forever) return NULL;
  if (arg == NULL) robust_put(1, "ready\n");
  for (;;) pause();
}

static void seal_main_thread(void) {
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0) _exit(99);
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "pthread_exit";
  g_pairs = argc > 2 ? strtol(argv[2], NULL, 10) : 20000;
  g_wait_forever = strcmp(mode, "pthread_exit_wait") == 0;
  g_block = malloc(77777);
  atexit(at_exit);
  if (strcmp(mode, "seccomp_kill") == 0) {
    seal_main_thread();
    return 0;
  }
  g_main = pthread_self();
  pthread_barrier_init(&g_gone, NULL, kWorkers);
  pthread_t t;
  for (long i = 0; i < kWorkers; ++i)
    if (pthread_create(&t, NULL, worker, (void*)i) != 0) return 1;
  printf("workers=%d\n", kWorkers);
  if (strncmp(mode, "pthread_exit", 12) == 0) pthread_exit(NULL);
  if (strcmp(mode, "seccomp") != 0) return 2;
  int code = argc > 3 ? atoi(argv[3]) : 0;
  void* volatile warm = malloc(24);  // fills the tcache bin the sealed thread then uses
  free(warm);
  seal_main_thread();
  for (int i = 0; i < 100; ++i) {
    void* volatile p = malloc(24);
    free(p);
  }
  robust_put(1, "sealed\n");
  syscall(SYS_exit, code);
  return 3;
}
