/* Programs with known leak kinds, one per case (argv[1]), for the oracle tests that compare
 * memscope's leak scan with valgrind memcheck and LeakSanitizer (leak_oracle.py). Every block
 * is kept in a global or a live thread's stack frame, never only in a register or a dead
 * frame, so the answer does not depend on the compiler:
 *   overwritten   the only pointer to a 100-byte block is overwritten by one to a 50-byte block
 *                 (100 definitely lost, 50 reachable)
 *   list          a 5-node list whose head pointer is dropped (1 definitely, 4 indirectly lost)
 *   global        a 64-byte block reachable from a global (reachable)
 *   interior      a 100-byte block known only by a pointer 40 bytes in (possibly lost)
 *   thread        a thread that exits after losing a 64-byte block (definitely lost) and keeping
 *                 a 32-byte one in a global (reachable)
 *   live_stack    a 77-byte block referenced only from the stack of a thread still blocked at
 *                 exit (reachable); another thread's 33-byte block lost (definitely lost)
 *   main_stack    a 48-byte block referenced only from the frame that calls exit() (reachable;
 *                 procfs's maps, which lists that stack last, must be read to its end)
 *   fork          the parent keeps a 64-byte block and a 40-byte one in globals and forks; the
 *                 child hangs a 100-byte block on the inherited 64-byte one (reachable only
 *                 through it), loses a 200-byte block and drops its pointer to the inherited
 *                 40-byte one (child: 240 definitely lost, 164 reachable; parent: 104 reachable)
 *   two_sites     two sites each lose a block, cache_leak 200 bytes and real_leak 300 bytes
 *                 (definitely lost), and keep_block keeps 64 bytes in a global (reachable): the
 *                 suppression test (leak_suppress.py) suppresses one site or both
 *   dlopened      dlopens Debian's libz and libbz2 and never dlcloses them: what the loader
 *                 allocated for them stays live (memcheck: still reachable; memscope's built-in
 *                 suppression)
 */
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct node {
  struct node* next;
  char payload[24];
};

static void* volatile g_kept;
static void* volatile g_other;
static struct node* volatile g_head;
static sem_t g_ready;

static void* must(void* p) {
  if (p == NULL) {
    fputs("allocation failed\n", stderr);
    exit(2);
  }
  return p;
}

__attribute__((noinline)) static void overwritten(void) {
  g_kept = must(malloc(100));
  g_kept = must(malloc(50));
}

__attribute__((noinline)) static void list(void) {
  for (int i = 0; i < 5; ++i) {
    struct node* n = must(malloc(sizeof *n));
    n->next = g_head;
    g_head = n;
  }
  g_head = NULL;
}

__attribute__((noinline)) static void global(void) {
  g_kept = must(malloc(64));
}

__attribute__((noinline)) static void interior(void) {
  g_kept = (char*)must(malloc(100)) + 40;
}

static void* lose_and_keep(void* arg) {
  (void)arg;
  g_other = must(malloc(64));
  g_other = NULL;
  g_kept = must(malloc(32));
  return NULL;
}

__attribute__((noinline)) static void thread(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, lose_and_keep, NULL) != 0) exit(2);
  pthread_join(t, NULL);
}

static void* hold_on_stack(void* arg) {
  (void)arg;
  void* volatile held = must(malloc(77));
  memset(held, 1, 77);
  sem_post(&g_ready);
  for (;;) pause();
  return NULL;
}

__attribute__((noinline)) static void live_stack(void) {
  sem_init(&g_ready, 0, 0);
  pthread_t t;
  if (pthread_create(&t, NULL, hold_on_stack, NULL) != 0) exit(2);
  while (sem_wait(&g_ready) != 0) {
  }
  g_other = must(malloc(33));
  g_other = NULL;
}

__attribute__((noinline)) static void main_stack(void) {
  void* volatile held = must(malloc(48));
  memset(held, 1, 48);
  exit(0);
}

__attribute__((noinline)) static void fork_child(void) {
  struct node* root = must(calloc(1, 64));
  g_head = root;
  g_other = must(malloc(40));
  pid_t pid = fork();
  if (pid < 0) exit(2);
  if (pid == 0) {
    root->next = must(malloc(100));
    g_kept = must(malloc(200));
    g_kept = NULL;
    g_other = NULL;
    return;
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || status != 0) exit(2);
}

__attribute__((noinline)) static void cache_leak(void) {
  g_other = must(malloc(200));
  g_other = NULL;
}

__attribute__((noinline)) static void real_leak(void) {
  g_other = must(malloc(300));
  g_other = NULL;
}

__attribute__((noinline)) static void keep_block(void) {
  g_kept = must(malloc(64));
}

__attribute__((noinline)) static void two_sites(void) {
  cache_leak();
  real_leak();
  keep_block();
}

__attribute__((noinline)) static void dlopened(void) {
  if (dlopen("libz.so.1", RTLD_NOW) == NULL || dlopen("libbz2.so.1.0", RTLD_NOW) == NULL) exit(2);
}

int main(int argc, char** argv) {
  static const struct {
    const char* name;
    void (*run)(void);
  } cases[] = {{"overwritten", overwritten}, {"list", list},       {"global", global},
               {"interior", interior},       {"thread", thread},   {"live_stack", live_stack},
               {"main_stack", main_stack},   {"fork", fork_child}, {"two_sites", two_sites},
               {"dlopened", dlopened}};
  for (size_t i = 0; argc == 2 && i < sizeof cases / sizeof cases[0]; ++i) {
    if (strcmp(argv[1], cases[i].name) != 0) continue;
    cases[i].run();
    return 0;
  }
  fputs(
      "usage: leak_cases overwritten|list|global|interior|thread|live_stack|main_stack|fork|"
      "two_sites|dlopened\n",
      stderr);
  return 2;
}
