// robust_endings MODE N: makes exactly N allocations on the main thread (N/2 of them freed),
// then ends the way MODE says. No stdio: the only allocations are the N shown here.
//   exit      exit(5)
//   _exit     _exit(3)
//   return    return 0 from main
//   abort     abort()
//   segv      write through a null pointer (SIGSEGV)
//   term      raise(SIGTERM)
//   threads   start 4 threads that allocate forever, then return 0 from main while they run
//   _Exit     _Exit(6)
//   quick_exit  quick_exit(7) after at_quick_exit registered a handler that allocates once
//   exit_group  syscall(SYS_exit_group, 8)
//   sys_execve  syscall(SYS_execve, ...) of this program in mode _exit with N=0
//   execveat  execveat(AT_FDCWD, ...) of this program in mode _exit with N=0
//   pipe      write "line K" to stdout forever: dies of SIGPIPE once the reader closes the pipe
//   hup, usr1, rtmin  raise(SIGHUP), raise(SIGUSR1), raise(SIGRTMIN)
//   redefault install a SIGTERM handler, then from it restore SIG_DFL with signal() and re-raise
//   dispositions  print what sigaction() and signal() report for every signal, then exit(0)
// Prints "allocated=N" on stdout before ending.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "robust_io.h"

static volatile int g_sink;

static void* allocate_forever(void* arg) {
  (void)arg;
  for (unsigned i = 0;; ++i) {
    char* p = malloc(32 + i % 64);
    if (p) {
      p[0] = (char)i;
      g_sink += p[0];
    }
    free(p);
  }
  return NULL;
}

extern char** environ;

static void allocate_once(void) {
  g_sink += malloc(24) != NULL;
}

static void restore_default_and_reraise(int sig) {
  signal(sig, SIG_DFL);
  raise(sig);
}

static void write_forever(void) {
  for (long k = 0;; ++k) robust_put_num(1, "line ", k);
}

// One line per signal: what sigaction() and signal() say about it (D default, I ignore, H a
// handler), then the signal's old disposition put back.
static void print_dispositions(void) {
  for (int sig = 1; sig <= SIGRTMAX; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP || (sig >= 32 && sig < SIGRTMIN)) continue;
    struct sigaction sa;
    if (sigaction(sig, NULL, &sa) != 0) continue;
    void (*h)(int) = sa.sa_handler;
    char what = h == SIG_DFL ? 'D' : h == SIG_IGN ? 'I' : 'H';
    void (*old)(int) = signal(sig, SIG_IGN);
    char what2 = old == SIG_DFL ? 'D' : old == SIG_IGN ? 'I' : 'H';
    signal(sig, old);
    char line[] = {what, what2, '\0'};
    robust_put_num(1, line, sig);
  }
}

static void exec_self(int at) {
  char* args[] = {"robust_endings", "_exit", "0", NULL};
  if (at)
    execveat(AT_FDCWD, "/proc/self/exe", args, environ, 0);
  else
    syscall(SYS_execve, "/proc/self/exe", args, environ);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    robust_put(2, "usage: robust_endings MODE N (see endings.c)\n");
    return 2;
  }
  const char* mode = argv[1];
  long n = strtol(argv[2], NULL, 10);
  void** blocks = NULL;
  if (n > 0) {
    blocks = malloc((size_t)n * sizeof(void*));
    if (!blocks) return 1;
    blocks[0] = blocks;
    for (long i = 1; i < n; ++i) {
      blocks[i] = malloc((size_t)(16 + i % 200));
      if (!blocks[i]) return 1;
      memset(blocks[i], (int)i, 16);
    }
    for (long i = 1; i < n; i += 2) free(blocks[i]);
  }
  robust_put_num(1, "allocated=", n);

  if (strcmp(mode, "exit") == 0) exit(5);
  if (strcmp(mode, "_exit") == 0) _exit(3);
  if (strcmp(mode, "return") == 0) return 0;
  if (strcmp(mode, "abort") == 0) abort();
  if (strcmp(mode, "segv") == 0) {
    volatile int* volatile p = NULL;
    *p = 1;
    return 1;
  }
  if (strcmp(mode, "term") == 0) {
    raise(SIGTERM);
    return 1;
  }
  if (strcmp(mode, "threads") == 0) {
    for (int t = 0; t < 4; ++t) {
      pthread_t tid;
      if (pthread_create(&tid, NULL, allocate_forever, NULL) != 0) return 1;
    }
    // Let them get going, so that main returns while they are in the middle of allocating.
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    return 0;
  }
  if (strcmp(mode, "_Exit") == 0) _Exit(6);
  if (strcmp(mode, "quick_exit") == 0) {
    at_quick_exit(allocate_once);
    quick_exit(7);
  }
  if (strcmp(mode, "exit_group") == 0) syscall(SYS_exit_group, 8);
  if (strcmp(mode, "sys_execve") == 0 || strcmp(mode, "execveat") == 0) {
    exec_self(mode[0] == 'e');
    return 1;
  }
  if (strcmp(mode, "pipe") == 0) write_forever();
  if (strcmp(mode, "hup") == 0) raise(SIGHUP);
  if (strcmp(mode, "usr1") == 0) raise(SIGUSR1);
  if (strcmp(mode, "rtmin") == 0) raise(SIGRTMIN);
  if (strcmp(mode, "redefault") == 0) {
    signal(SIGTERM, restore_default_and_reraise);
    raise(SIGTERM);
  }
  if (strcmp(mode, "dispositions") == 0) {
    print_dispositions();
    exit(0);
  }
  robust_put(2, "robust_endings: unknown mode\n");
  return 2;
}
