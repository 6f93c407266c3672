// robust_fdcount N: starts N threads that each allocate and then wait until all N are alive;
// with every thread alive (and after a pause, so that a sampler has seen them all), the main
// thread counts the entries of /proc/self/fd, the process's descriptor table, and prints
// "descriptors: K". Then it releases the threads and joins them.
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "robust_io.h"

static pthread_barrier_t g_alive, g_counted;

static void* work(void* arg) {
  (void)arg;
  for (int i = 0; i < 20; ++i) {
    void* volatile p = malloc((size_t)(64 + i));
    free(p);
  }
  pthread_barrier_wait(&g_alive);
  pthread_barrier_wait(&g_counted);
  return NULL;
}

static long count_descriptors(void) {
  DIR* dir = opendir("/proc/self/fd");
  long n = 0;
  for (struct dirent* e; dir != NULL && (e = readdir(dir)) != NULL;) n += e->d_name[0] != '.';
  if (dir != NULL) closedir(dir);
  return n - 1;  // the directory's own descriptor
}

int main(int argc, char** argv) {
  long n = argc == 2 ? strtol(argv[1], NULL, 10) : 0;
  if (n <= 0) return 2;
  pthread_t* threads = malloc(sizeof(pthread_t) * (size_t)n);
  pthread_barrier_init(&g_alive, NULL, (unsigned)n + 1);
  pthread_barrier_init(&g_counted, NULL, (unsigned)n + 1);
  for (long i = 0; i < n; ++i) pthread_create(&threads[i], NULL, work, NULL);
  pthread_barrier_wait(&g_alive);
  struct timespec pause = {0, 400 * 1000 * 1000};
  nanosleep(&pause, NULL);
  robust_put_num(1, "descriptors: ", count_descriptors());
  pthread_barrier_wait(&g_counted);
  for (long i = 0; i < n; ++i) pthread_join(threads[i], NULL);
  free(threads);
  return 0;
}
