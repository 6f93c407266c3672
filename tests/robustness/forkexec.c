// robust_forkexec PROGRAM [ARGS...]: allocates, forks; the child allocates and execs PROGRAM;
// the parent waits and exits with the child's status. So three process images: the parent,
// the fork child before exec, and the exec'd PROGRAM.
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "robust_io.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    robust_put(2, "usage: robust_forkexec PROGRAM [ARGS...]\n");
    return 2;
  }
  free(malloc(100));
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    free(malloc(200));
    execv(argv[1], argv + 1);
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return 1;
  free(malloc(300));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
