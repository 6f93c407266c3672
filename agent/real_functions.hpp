// The next definitions of every interposed symbol (the program's allocator, normally glibc's),
// resolved with dlsym(RTLD_NEXT) so memscope never changes which allocator a program uses.
// Until resolution finishes (dlsym itself may call calloc), allocations come from a small
// static bootstrap pool.
#pragma once

#include <pthread.h>
#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace memscope::agent {

struct RealFunctions {
  void* (*malloc)(size_t);
  void (*free)(void*);
  void* (*calloc)(size_t, size_t);
  void* (*realloc)(void*, size_t);
  int (*posix_memalign)(void**, size_t, size_t);
  void* (*aligned_alloc)(size_t, size_t);
  void* (*memalign)(size_t, size_t);
  void* (*valloc)(size_t);
  void* (*pvalloc)(size_t);
  int (*pthread_create)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
  pid_t (*fork)();
  void* (*dlopen)(const char*, int);
  int (*dlclose)(void*);
  void (*underscore_exit)(int);
  int (*prctl)(int, ...);
  void (*quick_exit)(int);
  long (*syscall)(long, ...);
  int (*execve)(const char*, char* const[], char* const[]);
  int (*execvpe)(const char*, char* const[], char* const[]);
  int (*fexecve)(int, char* const[], char* const[]);
  int (*execveat)(int, const char*, char* const[], char* const[], int);
  int (*sigaction)(int, const struct sigaction*, struct sigaction*);
  sighandler_t (*signal)(int, sighandler_t);
};

extern RealFunctions g_real;

// Inline, as every hook asks both on every call: a load and a range check, no call.
extern std::atomic<bool> g_real_resolved;
constexpr size_t kBootstrapBytes = 256 * 1024;
extern unsigned char g_bootstrap_pool[kBootstrapBytes];

// Resolves on the first call; false while resolution runs (dlsym re-entered us) or is another's.
bool resolve_real_functions();

// True once every allocation function above is resolved; resolves on first call.
inline bool real_functions_ready() {
  return g_real_resolved.load(std::memory_order_acquire) || resolve_real_functions();
}

inline bool in_bootstrap_pool(const void* p) {
  auto a = reinterpret_cast<uintptr_t>(p);
  auto base = reinterpret_cast<uintptr_t>(g_bootstrap_pool);
  return a >= base && a < base + kBootstrapBytes;
}
void* bootstrap_allocate(size_t size, size_t alignment);
size_t bootstrap_block_size(const void* p);

// The system call `number` with six arguments, as glibc's syscall() makes it (-1 and errno on
// failure), without it: for a syscall() that arrives while the real one is not yet resolved.
long raw_syscall(long number, const long args[6]);

}  // namespace memscope::agent
