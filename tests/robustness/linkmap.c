// robust_linkmap: what the program sees of the loader. Prints the base name of every object in
// its link map (dl_iterate_phdr, sorted, the vDSO left out), then for each library memscope
// itself uses or once used (liblzma, libm, libunwind, libmimalloc) and one it never did (libz):
// whether it was loaded before the program asked (dlopen with RTLD_NOLOAD), then dlopens it and
// looks up one symbol. Natively none is loaded before; a library the agent brought along would
// answer "already loaded" and its dlopen would allocate nothing. Exit 0, or 1 on a failed dlopen.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kMaxObjects = 256 };

static const char* g_names[kMaxObjects];
static int g_count;

static int remember(struct dl_phdr_info* info, size_t size, void* data) {
  (void)size;
  (void)data;
  const char* slash = strrchr(info->dlpi_name, '/');
  const char* base = slash ? slash + 1 : info->dlpi_name;
  if (base[0] == '\0' || strncmp(base, "linux-vdso", 10) == 0) return 0;
  if (g_count < kMaxObjects) g_names[g_count++] = strdup(base);
  return 0;
}

static int by_name(const void* a, const void* b) {
  return strcmp(*(const char* const*)a, *(const char* const*)b);
}

int main(void) {
  dl_iterate_phdr(remember, NULL);
  qsort(g_names, (size_t)g_count, sizeof g_names[0], by_name);
  for (int i = 0; i < g_count; ++i) printf("loaded: %s\n", g_names[i]);
  static const char* const kLibs[][2] = {{"liblzma.so.5", "lzma_version_string"},
                                         {"libm.so.6", "cbrt"},
                                         {"libunwind.so.8", "unw_backtrace"},
                                         {"libmimalloc.so.2", "mi_version"},
                                         {"libz.so.1", "zlibVersion"}};
  for (size_t i = 0; i < sizeof kLibs / sizeof kLibs[0]; ++i) {
    void* before = dlopen(kLibs[i][0], RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    printf("%s: %s\n", kLibs[i][0], before ? "already loaded" : "not loaded");
    if (before) dlclose(before);
    void* lib = dlopen(kLibs[i][0], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL || dlsym(lib, kLibs[i][1]) == NULL) {
      printf("%s: dlopen or dlsym %s failed\n", kLibs[i][0], kLibs[i][1]);
      return 1;
    }
    printf("%s: opened, %s found\n", kLibs[i][0], kLibs[i][1]);
  }
  return 0;
}
