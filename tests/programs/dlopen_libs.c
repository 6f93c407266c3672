/* prog_dlopen_libs: the loader's own allocations when a program loads libraries at run time.
 *
 * Exercises: dlopen of four Debian system libraries the program is not linked with (liblzma,
 * libm, libz and libbz2), dlsym and a call of one function in each, then
 * dlclose of all four, twice over. The loader allocates a link map, its search lists and scope
 * arrays for each object and grows _dl_find_object's tables (_dlfo_mappings_segment_allocate);
 * DHAT sees all of it through malloc, so memscope must too: it is only the same when none of
 * memscope's own libraries is already in the program's link map (a dlopen of a library that is
 * already loaded allocates nothing) and memscope's loading did not grow the tables first.
 *
 * Prints each library's answer and the number of rounds. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lib {
  const char* file;
  const char* symbol;
  int kind; /* 0: const char* (void), 1: double (double) */
};

static const struct lib kLibs[] = {
    {"liblzma.so.5", "lzma_version_string", 0},
    {"libm.so.6", "cbrt", 1},
    {"libz.so.1", "zlibVersion", 0},
    {"libbz2.so.1.0", "BZ2_bzlibVersion", 0},
};
enum { kCount = sizeof kLibs / sizeof kLibs[0], kRounds = 2 };

static int round_trip(void) {
  void* handles[kCount];
  for (int i = 0; i < kCount; ++i) {
    handles[i] = dlopen(kLibs[i].file, RTLD_NOW | RTLD_LOCAL);
    if (handles[i] == NULL) {
      printf("dlopen %s failed\n", kLibs[i].file);
      return 1;
    }
    /* POSIX's way to a function pointer from dlsym, which ISO C has no conversion for. */
    const char* (*text)(void) = NULL;
    double (*number)(double) = NULL;
    void* found = dlsym(handles[i], kLibs[i].symbol);
    if (found == NULL) {
      printf("dlsym %s failed\n", kLibs[i].symbol);
      return 1;
    }
    if (kLibs[i].kind == 0) {
      memcpy(&text, &found, sizeof found);
      printf("%s: %s\n", kLibs[i].symbol, text());
    } else {
      memcpy(&number, &found, sizeof found);
      printf("%s(27) = %.1f\n", kLibs[i].symbol, number(27.0));
    }
  }
  for (int i = kCount - 1; i >= 0; --i) dlclose(handles[i]);
  return 0;
}

int main(void) {
  for (int r = 0; r < kRounds; ++r)
    if (round_trip() != 0) return 1;
  printf("rounds: %d\n", kRounds);
  return 0;
}
