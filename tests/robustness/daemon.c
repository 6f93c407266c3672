// robust_daemon MARKER N: the classic double fork. The parent forks a child and waits for it;
// the child calls setsid, forks the daemon and exits at once; the parent then returns 0. The
// daemon sends its stdio to /dev/null, sleeps 700 ms (so it outlives the parent), makes N
// malloc/free pairs, writes its pid to MARKER and exits 0. Each process makes its own exact
// number of heap calls: the parent 1 pair before forking, the first child 2 pairs, the daemon
// N pairs. No stdio.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "robust_io.h"

static void pairs(long n) {
  for (long i = 0; i < n; ++i) {
    void* volatile p = malloc((size_t)(48 + i % 32));
    free(p);
  }
}

int main(int argc, char** argv) {
  if (argc != 3) {
    robust_put(2, "usage: robust_daemon MARKER N\n");
    return 2;
  }
  long n = strtol(argv[2], NULL, 10);
  pairs(1);
  pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    pairs(2);
    if (setsid() < 0) _exit(1);
    pid_t daemon = fork();
    if (daemon < 0) _exit(1);
    if (daemon > 0) exit(0);
    int null = open("/dev/null", O_RDWR);
    if (null < 0) _exit(1);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    close(null);
    struct timespec ts = {0, 700 * 1000 * 1000};
    nanosleep(&ts, NULL);
    pairs(n);
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) exit(1);
    robust_put_num(fd, "daemon=", (long long)getpid());
    close(fd);
    exit(0);
  }
  int status = 0;
  if (waitpid(child, &status, 0) < 0) return 1;
  robust_put(1, "parent done\n");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
