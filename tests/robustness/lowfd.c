// robust_lowfd MODE ...: programs that rely on open() returning the lowest free descriptor.
//   loop N         N times: close(0), open /dev/null, which must be 0; allocates between.
//                  Prints "not 0: K" (0 natively).
//   forks N        forks N children; each runs the loop 200 times and exits 1 if open() ever
//                  returned something else than 0. Prints "children not 0: K".
//   closeall OUT   closes every descriptor below the soft RLIMIT_NOFILE, opens /dev/null three
//                  times (daemon()-style), allocates, then opens OUT (must be 3) and writes
//                  there, for each of 0, 1, 2 and OUT, its number and what it refers to
//                  (readlink /proc/self/fd/N): "/dev/null" three times and OUT.
//   nested N       a chain of N forks, each process forking the next (no exec) and waiting
//                  for it; the last one prints "descriptors: K", the entries of /proc/self/fd.
//                  Exit 0 when every process in the chain exited 0.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "robust_io.h"

static void allocate(int i) {
  void* volatile p = malloc((size_t)(32 + i % 200));
  free(p);
}

static long loop(long n) {
  long wrong = 0;
  for (long i = 0; i < n; ++i) {
    close(0);
    int fd = open("/dev/null", O_RDONLY);
    if (fd != 0) {
      ++wrong;
      if (fd > 0) close(fd);
    }
    allocate((int)i);
  }
  return wrong;
}

static int forks(long n) {
  long wrong = 0;
  for (long i = 0; i < n; ++i) {
    pid_t child = fork();
    if (child == 0) _exit(loop(200) == 0 ? 0 : 1);
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
      ++wrong;
  }
  robust_put_num(1, "children not 0: ", wrong);
  return 0;
}

static void describe(int out, int fd) {
  char link[64] = "/proc/self/fd/", target[512];
  int len = 14;
  link[len++] = (char)('0' + fd);
  link[len] = '\0';
  ssize_t n = readlink(link, target, sizeof(target) - 1);
  target[n > 0 ? n : 0] = '\0';
  robust_put_num(out, "fd ", fd);
  robust_put(out, target);
  robust_put(out, "\n");
}

static int closeall(const char* out_path) {
  struct rlimit limit;
  getrlimit(RLIMIT_NOFILE, &limit);
  for (rlim_t fd = 0; fd < limit.rlim_cur; ++fd) close((int)fd);
  for (int i = 0; i < 3; ++i) open("/dev/null", O_RDWR);
  for (int i = 0; i < 1000; ++i) allocate(i);
  int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out != 3) return 3;
  for (int fd = 0; fd <= 3; ++fd) describe(out, fd);
  return 0;
}

static int nested(long depth) {
  for (int i = 0; i < 100; ++i) allocate(i);
  if (depth == 0) {
    DIR* dir = opendir("/proc/self/fd");
    long entries = 0;
    while (dir != NULL && readdir(dir) != NULL) ++entries;
    if (dir != NULL) closedir(dir);
    robust_put_num(1, "descriptors: ", entries);
    return dir == NULL;
  }
  pid_t child = fork();
  if (child == 0) _exit(nested(depth - 1));
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status)) return 1;
  return WEXITSTATUS(status);
}

int main(int argc, char** argv) {
  if (argc == 3 && argv[1][0] == 'l') {
    robust_put_num(1, "not 0: ", loop(strtol(argv[2], NULL, 10)));
    return 0;
  }
  if (argc == 3 && argv[1][0] == 'f') return forks(strtol(argv[2], NULL, 10));
  if (argc == 3 && argv[1][0] == 'c') return closeall(argv[2]);
  if (argc == 3 && argv[1][0] == 'n') return nested(strtol(argv[2], NULL, 10));
  robust_put(2, "usage: robust_lowfd loop N | forks N | closeall OUT | nested N\n");
  return 2;
}
