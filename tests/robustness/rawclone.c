// robust_rawclone N: the main thread makes 100 malloc/free pairs, then makes a child with a raw
// clone(SIGCHLD) system call (no fork(): glibc's and memscope's fork handlers do not run, as in
// sandboxes and some language runtimes). The child makes N malloc/free pairs (far more than a
// ring holds), forks a grandchild that makes 100 pairs, waits for it, prints "child=N" and
// exits through exit(). The parent waits for the child, prints its status ("child_status=0"),
// makes 100 more pairs and exits. The main thread's counts are exactly 200 + 1 (the fork()
// wrapper) or more; no stdio.
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "robust_io.h"

static void pairs(long n) {
  for (long i = 0; i < n; ++i) {
    void* volatile p = malloc(24);
    free(p);
  }
}

static int child(long n) {
  pairs(n);
  pid_t grandchild = fork();
  if (grandchild == 0) {
    pairs(100);
    _exit(0);
  }
  int status = -1;
  if (grandchild < 0 || waitpid(grandchild, &status, 0) != grandchild || status != 0) return 1;
  robust_put_num(1, "child=", n);
  return 0;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
  pairs(100);
  long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) return 2;
  if (pid == 0) exit(child(n));
  int status = -1;
  if (waitpid((pid_t)pid, &status, 0) != pid) return 3;
  robust_put_num(1, "child_status=", WIFEXITED(status) ? WEXITSTATUS(status) : 128);
  pairs(100);
  return 0;
}
