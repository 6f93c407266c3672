// robust_forkalloc CHILDREN N: fork without exec where both sides keep allocating. The parent
// makes 10 allocations (5 kept live across the forks), then forks CHILDREN children one after
// another; each child makes exactly N malloc/free pairs of 32 + i % 64 bytes and exits 0, while
// the parent, between fork and waitpid, makes N pairs of its own. No stdio, so the only heap
// calls are the ones below. Exit status: 0 when every child exited 0.
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "robust_io.h"

static void pairs(long n) {
  for (long i = 0; i < n; ++i) {
    void* volatile p = malloc((size_t)(32 + i % 64));
    free(p);
  }
}

int main(int argc, char** argv) {
  if (argc != 3) {
    robust_put(2, "usage: robust_forkalloc CHILDREN N\n");
    return 2;
  }
  long children = strtol(argv[1], NULL, 10);
  long n = strtol(argv[2], NULL, 10);
  void* volatile keep[5];
  for (int i = 0; i < 10; ++i) {
    void* p = malloc(100);
    if (i % 2 == 0) {
      keep[i / 2] = p;
    } else {
      free(p);
    }
  }
  int failed = 0;
  for (long c = 0; c < children; ++c) {
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
      pairs(n);
      exit(0);
    }
    pairs(n);
    int status = 0;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
  }
  for (int i = 0; i < 5; ++i) free(keep[i]);
  robust_put_num(1, "children=", children);
  return failed;
}
