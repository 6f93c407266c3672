// robust_static: linked with -static, so the loader never reads LD_PRELOAD; memscope-run must
// refuse it (exit 125) with a message saying it is statically linked.
#include <stdio.h>

int main(void) {
  puts("static program ran");
  return 0;
}
