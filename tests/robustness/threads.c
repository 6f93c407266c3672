// robust_threads MODE COUNT K: starts COUNT threads that each make exactly K allocations of
// 40 + i bytes and free them, on their own thread.
//   joined    create and join the threads one batch of 8 at a time
//   detached  create them detached; main waits until every one has done its work (but not
//             until they have exited), then returns
// No stdio: the main thread allocates nothing itself.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "robust_io.h"

static long g_k;
static atomic_long g_done;

static void* work(void* arg) {
  (void)arg;
  void* blocks[64];
  long k = g_k;
  for (long i = 0; i < k; ++i) {
    blocks[i] = malloc((size_t)(40 + i));
    if (blocks[i]) memset(blocks[i], 0, 8);
  }
  for (long i = 0; i < k; ++i) free(blocks[i]);
  atomic_fetch_add(&g_done, 1);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    robust_put(2, "usage: robust_threads joined|detached COUNT K\n");
    return 2;
  }
  long count = strtol(argv[2], NULL, 10);
  g_k = strtol(argv[3], NULL, 10);
  if (g_k < 0 || g_k > 64) return 2;
  if (strcmp(argv[1], "joined") == 0) {
    for (long done = 0; done < count;) {
      pthread_t batch[8];
      int n = 0;
      for (; n < 8 && done + n < count; ++n) {
        if (pthread_create(&batch[n], NULL, work, NULL) != 0) return 1;
      }
      for (int i = 0; i < n; ++i) pthread_join(batch[i], NULL);
      done += n;
    }
  } else if (strcmp(argv[1], "detached") == 0) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (long i = 0; i < count; ++i) {
      pthread_t t;
      while (pthread_create(&t, &attr, work, NULL) != 0) {
        struct timespec ts = {0, 1000 * 1000};  // too many alive at once: let some finish
        nanosleep(&ts, NULL);
      }
    }
    pthread_attr_destroy(&attr);
    while (atomic_load(&g_done) < count) {
      struct timespec ts = {0, 1000 * 1000};
      nanosleep(&ts, NULL);
    }
  } else {
    return 2;
  }
  robust_put_num(1, "threads=", count);
  return 0;
}
