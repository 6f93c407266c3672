// robust_sigwild: calls through a wild function pointer (an unmapped address that is not 0);
// the SIGSEGV handler allocates (a block of 4242 bytes, unwound through the signal frame into
// the wild pc), prints "handler" and leaves with _exit(3). libgcc's unwinder, asked for the
// frame at a pc no module holds, reads the instruction bytes there: the agent must end the
// stack at that pc instead, so the program ends as natively. No stdio.
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "robust_io.h"

static void on_segv(int sig) {
  (void)sig;
  void* volatile block = malloc(4242);
  robust_put(1, block != NULL ? "handler\n" : "no memory\n");
  _exit(3);
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_segv;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, NULL) != 0) return 1;
  void (*volatile wild)(void) = (void (*)(void))0x40;
  wild();
  return 0;
}
