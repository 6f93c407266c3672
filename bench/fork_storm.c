// bench_fork_storm [CHILDREN] [THREADS] [CHILD_ALLOCS]: forks while other threads allocate. THREADS
// threads (default 3) do malloc/free pairs in a loop while the main thread forks CHILDREN
// children (default 200) one after another; each child makes CHILD_ALLOCS malloc/free pairs
// (default 10) and ends, alternately with exit(0) and _exit(0); the parent waits for each
// before the next fork. Prints "fork_storm: CHILDREN children, THREADS threads" and exits 0
// when every child exited 0. bench/fork_cost times it natively and under memscope-run.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int g_stop;

static void pairs(long n) {
  for (long i = 0; i < n; ++i) {
    void* volatile p = malloc((size_t)(32 + i % 64));
    free(p);
  }
}

static void* churn(void* arg) {
  (void)arg;
  while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) pairs(64);
  return NULL;
}

static long arg_or(int argc, char** argv, int i, long fallback) {
  return argc > i ? strtol(argv[i], NULL, 10) : fallback;
}

int main(int argc, char** argv) {
  long children = arg_or(argc, argv, 1, 200);
  long threads = arg_or(argc, argv, 2, 3);
  long child_allocs = arg_or(argc, argv, 3, 10);
  if (children < 0 || threads < 0 || threads > 64 || child_allocs < 0) {
    fprintf(stderr, "usage: bench_fork_storm [CHILDREN] [THREADS(0-64)] [CHILD_ALLOCS]\n");
    return 2;
  }
  pthread_t tid[64];
  for (long t = 0; t < threads; ++t) pthread_create(&tid[t], NULL, churn, NULL);
  int failed = 0;
  for (long c = 0; c < children; ++c) {
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
      pairs(child_allocs);
      if (c % 2 == 0) exit(0);
      _exit(0);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
  }
  atomic_store(&g_stop, 1);
  for (long t = 0; t < threads; ++t) pthread_join(tid[t], NULL);
  printf("fork_storm: %ld children, %ld threads\n", children, threads);
  return failed;
}
