// robust_forkexec PROGRAM [ARGS...]: allocates, forks; the child allocates and execs PROGRAM;
// the parent waits and exits with the child's status. So three process images: the parent
// (2 allocations, both freed), the fork child before exec (1 allocation, freed) and the exec'd
// PROGRAM. No stdio. The pointers go through a volatile variable: the compiler may otherwise
// remove a malloc whose block is only freed.
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "robust_io.h"

static void allocate_and_free(size_t size) {
  void* volatile p = malloc(size);
  free(p);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    robust_put(2, "usage: robust_forkexec PROGRAM [ARGS...]\n");
    return 2;
  }
  allocate_and_free(100);
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    allocate_and_free(200);
    execv(argv[1], argv + 1);
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return 1;
  allocate_and_free(300);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
