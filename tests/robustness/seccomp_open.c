// robust_seccomp_open kill|errno: early in main, installs a seccomp filter on every thread
// (SECCOMP_FILTER_FLAG_TSYNC) that makes open and openat kill the process (kill) or fail with
// EACCES (errno). Then it works without opening anything: allocates, starts and joins 4 threads
// that allocate, sleeps 300 ms (a sampler runs meanwhile), and prints "done". Exit 0.
// robust_seccomp_open no-unshare PROGRAM ARGS...: makes unshare fail with EPERM, as container
// sandboxes do, and close_range too (whose CLOSE_RANGE_UNSHARE gives a thread a table of its
// own on kernels from 5.9, which such a sandbox may not know to forbid), then execs PROGRAM
// (the filter stays through exec). Exit 3: no filter possible.
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <errno.h>

#include "robust_io.h"

// Makes `first` and `second` (system call numbers) end with `action`.
static int install(int first, int second, unsigned int action) {
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)first, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)second, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, action),
  };
  struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
}

static void* work(void* arg) {
  for (long i = 0; i < 1000; ++i) {
    void* volatile p = malloc((size_t)(32 + (long)arg + i % 64));
    free(p);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc >= 3 && strcmp(argv[1], "no-unshare") == 0) {
    if (install(__NR_unshare, __NR_close_range, SECCOMP_RET_ERRNO | EPERM) != 0) return 3;
    execv(argv[2], argv + 2);
    return 127;
  }
  if (argc != 2) return 2;
  int kill = strcmp(argv[1], "kill") == 0;
  if (install(__NR_open, __NR_openat,
              kill ? SECCOMP_RET_KILL_PROCESS : SECCOMP_RET_ERRNO | EACCES) != 0) {
    robust_put(2, "cannot install the seccomp filter\n");
    return 3;
  }
  work(NULL);
  pthread_t threads[4];
  for (long i = 0; i < 4; ++i) pthread_create(&threads[i], NULL, work, (void*)i);
  for (int i = 0; i < 4; ++i) pthread_join(threads[i], NULL);
  struct timespec pause = {0, 300 * 1000 * 1000};
  nanosleep(&pause, NULL);
  robust_put(1, "done\n");
  return 0;
}
