/* prog_exec: exec of other test programs, from a fork child and from the root process itself.
 *
 *   root (prog_exec):  allocates (one block leaked), forks a child
 *   child:             allocates, then execv()s prog_alloc_basic with argument "7" (its exit
 *                      status); the new image starts with an empty heap
 *   root:              waits, checks that the child exited with 7, allocates again, then
 *                      execv()s prog_realloc_chain; what it allocated before the exec is gone
 * The other programs are found next to this one (directory of /proc/self/exe), or in the
 * directory given as argv[1]. A process image that is replaced by exec leaves no DHAT summary;
 * memscope records it and its exec successor separately. Single-threaded; deterministic. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void* volatile sink;
static void* leaked;
static char dir[PATH_MAX];
static uint64_t checksum;

static unsigned char* alloc(size_t n) {
  unsigned char* p = malloc(n);
  if (!p) {
    fputs("allocation failed\n", stderr);
    exit(99);
  }
  sink = p;
  memset(p, (int)(n & 0x7f), n);
  checksum += p[n - 1];
  return p;
}

static void churn(int seed, int count) {
  for (int i = 0; i < count; ++i) free(alloc(1 + (size_t)((seed * 71 + i * 43) % 2500)));
}

static void exec_sibling(const char* name, const char* arg) {
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  char* args[] = {path, (char*)arg, NULL};
  fflush(stdout);
  execv(path, args);
  perror(path);
  _exit(96);
}

int main(int argc, char** argv) {
  if (argc > 1) {
    snprintf(dir, sizeof dir, "%s", argv[1]);
  } else {
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0) {
      perror("readlink /proc/self/exe");
      return 95;
    }
    dir[n] = '\0';
    char* slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
  }

  leaked = alloc(777);
  churn(1, 120);
  printf("exec: root checksum=%llu\n", (unsigned long long)checksum);
  fflush(stdout);

  pid_t pid = fork();
  if (pid < 0) return 97;
  if (pid == 0) {
    churn(2, 80);
    sink = alloc(555); /* lost at the exec */
    exec_sibling("prog_alloc_basic", "7");
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return 98;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  printf("exec: child exited with %d\n", code);
  if (code != 7) return 1;

  churn(3, 60);
  exec_sibling("prog_realloc_chain", NULL);
  return 0; /* not reached */
}
