// robust_dlloop LIBRARY N: N times dlopen LIBRARY, call its robust_dlib_work (3 allocations of
// 7777 bytes, freed), dlclose it. Prints "loops=N" and "work=3N". No stdio.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "robust_io.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    robust_put(2, "usage: robust_dlloop LIBRARY N\n");
    return 2;
  }
  long n = strtol(argv[2], NULL, 10);
  long work = 0;
  for (long i = 0; i < n; ++i) {
    void* handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      robust_put(2, "dlopen failed\n");
      return 1;
    }
    void* sym = dlsym(handle, "robust_dlib_work");
    if (!sym) return 1;
    int (*fn)(void);
    memcpy(&fn, &sym, sizeof fn);  // POSIX guarantees this works; ISO C has no direct cast
    work += fn();
    if (dlclose(handle) != 0) return 1;
  }
  robust_put_num(1, "loops=", n);
  robust_put_num(1, "work=", work);
  return 0;
}
