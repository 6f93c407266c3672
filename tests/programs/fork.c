/* prog_fork: fork where parent and children keep allocating, and the children leak.
 *
 * Process tree (each fork waits for its child before going on, so the order is fixed):
 *   root:       allocates (some kept across the fork, one leaked), then forks child A
 *   child A:    frees some inherited blocks, allocates its own, leaks, forks grandchild,
 *               waits, exits with exit(5) (atexit handlers run)
 *   grandchild: frees an inherited block, allocates, leaks, returns 0 from its function
 *               and exits with exit(0)
 *   root:       checks A's status, allocates more, forks child B
 *   child B:    allocates, leaks, leaves with _exit(6) (no atexit handlers, no stdio flush)
 *   root:       checks B's status, frees everything it still holds except its own leak
 * A fork child starts with a copy of its parent's heap: inherited blocks it does not free are
 * its leaks, and DHAT's counters for it start from its parent's counters at the fork.
 * Single-threaded; deterministic. Each process prints one line (flushed before any fork). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { KEPT = 16 };

static void* volatile sink;
static void* leaks[8];
static int nleaks;
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

/* Allocate and free `count` blocks, keeping at most 4 live at a time. */
static void churn(int seed, int count) {
  unsigned char* live[4] = {0};
  for (int i = 0; i < count; ++i) {
    int s = i % 4;
    if (live[s]) free(live[s]);
    live[s] = alloc(1 + (size_t)((seed * 53 + i * 29) % 1500));
  }
  for (int s = 0; s < 4; ++s) free(live[s]);
}

static void leak(size_t n) {
  leaks[nleaks++] = alloc(n);
}

static int wait_for(pid_t child) {
  int status = 0;
  if (waitpid(child, &status, 0) != child) {
    perror("waitpid");
    exit(98);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void grandchild(unsigned char** kept) {
  free(kept[0]);
  churn(3, 150);
  leak(3333);
  printf("fork: grandchild checksum=%llu\n", (unsigned long long)checksum);
  fflush(stdout);
  exit(0);
}

static void child_a(unsigned char** kept) {
  for (int i = 0; i < KEPT; i += 2) free(kept[i]); /* frees half of the inherited blocks */
  kept[0] = alloc(500);                            /* grandchild frees this one */
  churn(2, 300);
  leak(2222);
  printf("fork: child A checksum=%llu\n", (unsigned long long)checksum);
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) exit(97);
  if (pid == 0) grandchild(kept);
  int status = wait_for(pid);
  printf("fork: child A saw grandchild exit %d\n", status);
  exit(5);
}

static void child_b(void) {
  churn(4, 200);
  leak(4444);
  leak(44);
  printf("fork: child B checksum=%llu\n", (unsigned long long)checksum);
  fflush(stdout);
  _exit(6);
}

int main(void) {
  unsigned char* kept[KEPT];
  for (int i = 0; i < KEPT; ++i) kept[i] = alloc(100 + 10 * (size_t)i);
  churn(1, 400);
  leak(1111);
  printf("fork: root before forks checksum=%llu\n", (unsigned long long)checksum);
  fflush(stdout);

  pid_t a = fork();
  if (a < 0) return 97;
  if (a == 0) child_a(kept);
  int status_a = wait_for(a);

  churn(5, 250);
  pid_t b = fork();
  if (b < 0) return 97;
  if (b == 0) child_b();
  int status_b = wait_for(b);

  for (int i = 0; i < KEPT; ++i) free(kept[i]);
  printf("fork: root saw child A exit %d, child B exit %d, checksum=%llu\n", status_a, status_b,
         (unsigned long long)checksum);
  return status_a == 5 && status_b == 6 ? 0 : 1;
}
