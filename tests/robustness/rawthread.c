// robust_rawthread TIDFILE: threads the agent never sees start. The main thread makes two threads
// with glibc's raw clone() wrapper (CLONE_THREAD | CLONE_VM ..., no pthread_create: memscope's
// hook does not run, as for a thread started before the agent's hooks, such as jemalloc's
// background thread). "busy" spins on the CPU for 400 ms and exits; "sleeper" blocks until the
// process ends. The main thread makes 100 malloc/free pairs, waits for busy to exit, sleeps
// 300 ms, writes "busy=TID" and "sleeper=TID" lines to TIDFILE, prints "threads=3" and returns. The
// threads call nothing that allocates or touches thread-local storage.
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "robust_io.h"

#define STACK_BYTES (256 * 1024)
#define THREAD_FLAGS                                                                  \
  (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | \
   CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)

static volatile pid_t busy_tid, sleeper_tid;
static int never;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int busy(void* arg) {
  (void)arg;
  long long until = now_ms() + 400;
  while (now_ms() < until) {
  }
  return 0;
}

static int sleeper(void* arg) {
  (void)arg;
  for (;;) syscall(SYS_futex, &never, FUTEX_WAIT, 0, NULL, NULL, 0);
  return 0;
}

static int start(int (*fn)(void*), volatile pid_t* tid) {
  char* stack = mmap(NULL, STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (stack == MAP_FAILED) return -1;
  return clone(fn, stack + STACK_BYTES, THREAD_FLAGS, NULL, tid, NULL, tid);
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  if (start(busy, &busy_tid) < 0 || start(sleeper, &sleeper_tid) < 0) return 1;
  pid_t busy_was = busy_tid, sleeper_was = sleeper_tid;
  for (int i = 0; i < 100; ++i) {
    void* volatile p = malloc(32);
    free(p);
  }
  // The kernel clears busy_tid and wakes us when busy has exited (CLONE_CHILD_CLEARTID).
  pid_t seen;
  while ((seen = busy_tid) != 0) syscall(SYS_futex, &busy_tid, FUTEX_WAIT, seen, NULL, NULL, 0);
  struct timespec pause = {0, 300 * 1000000L};
  nanosleep(&pause, NULL);
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 1;
  robust_put_num(fd, "busy=", busy_was);
  robust_put_num(fd, "sleeper=", sleeper_was);
  close(fd);
  robust_put(1, "threads=3\n");
  return 0;
}
