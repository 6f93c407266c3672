// librobust_dlib.so: loaded and unloaded in a loop by robust_dlloop. robust_dlib_work makes
// exactly 3 allocations of 7777 bytes and frees them.
#include <stdlib.h>
#include <string.h>

int robust_dlib_work(void);

int robust_dlib_work(void) {
  void* volatile p[3];
  for (int i = 0; i < 3; ++i) {
    p[i] = malloc(7777);
    if (p[i]) memset(p[i], i, 16);
  }
  int sum = 0;
  for (int i = 0; i < 3; ++i) {
    sum += p[i] ? 1 : 0;
    free(p[i]);
  }
  return sum;
}
