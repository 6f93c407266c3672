// robust_spawn MODE PROGRAM [ARGS...]: starts PROGRAM another way than fork + exec and exits
// with its status. MODE: vfork (vfork, then execv in the child), posix_spawn, system (PROGRAM
// and ARGS joined by spaces and run by /bin/sh -c). Before and after, the parent makes one
// malloc/free pair each (so 2 allocations, 2 frees, plus whatever posix_spawn or system make
// inside glibc). No stdio.
#define _GNU_SOURCE
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "robust_io.h"

extern char** environ;

static void allocate_and_free(size_t size) {
  void* volatile p = malloc(size);
  free(p);
}

static int status_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    robust_put(2, "usage: robust_spawn vfork|posix_spawn|system PROGRAM [ARGS...]\n");
    return 2;
  }
  allocate_and_free(111);
  int status = 0;
  if (strcmp(argv[1], "vfork") == 0) {
    pid_t pid = vfork();
    if (pid < 0) return 1;
    if (pid == 0) {
      execv(argv[2], argv + 2);
      _exit(127);
    }
    if (waitpid(pid, &status, 0) < 0) return 1;
  } else if (strcmp(argv[1], "posix_spawn") == 0) {
    pid_t pid = 0;
    if (posix_spawn(&pid, argv[2], NULL, NULL, argv + 2, environ) != 0) return 1;
    if (waitpid(pid, &status, 0) < 0) return 1;
  } else if (strcmp(argv[1], "system") == 0) {
    char command[4096];
    size_t len = 0;
    for (int i = 2; i < argc; ++i) {
      size_t n = strlen(argv[i]);
      if (len + n + 2 > sizeof(command)) return 2;
      if (i > 2) command[len++] = ' ';
      memcpy(command + len, argv[i], n);
      len += n;
    }
    command[len] = '\0';
    status = system(command);
    if (status < 0) return 1;
  } else {
    return 2;
  }
  allocate_and_free(222);
  return status_of(status);
}
