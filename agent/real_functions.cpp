// Resolution of the next definitions (see real_functions.hpp) and the bootstrap pool that serves
// allocations made while dlsym runs, before any constructor of ours has run.
#include "agent/real_functions.hpp"

#include <dlfcn.h>

#include <cerrno>

#include <atomic>
#include <cstdint>

#include "agent/lifecycle.hpp"
#include "agent/thread_mode.hpp"

namespace memscope::agent {

RealFunctions g_real;
std::atomic<bool> g_real_resolved{false};
alignas(64) unsigned char g_bootstrap_pool[kBootstrapBytes];

namespace {

std::atomic<size_t> g_pool_used{0};
constexpr size_t kHeader = 16;  // each block is preceded by its size

enum State : int { kUnresolved, kResolving, kResolved };
std::atomic<int> g_state{kUnresolved};

template <typename F>
void resolve(F& slot, const char* name) {
  slot = reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

void resolve_all() {
  ScopedMode passthrough(ThreadMode::kPassthrough);
  resolve(g_real.malloc, "malloc");
  resolve(g_real.free, "free");
  resolve(g_real.calloc, "calloc");
  resolve(g_real.realloc, "realloc");
  resolve(g_real.posix_memalign, "posix_memalign");
  resolve(g_real.aligned_alloc, "aligned_alloc");
  resolve(g_real.memalign, "memalign");
  resolve(g_real.valloc, "valloc");
  resolve(g_real.pvalloc, "pvalloc");
  resolve(g_real.pthread_create, "pthread_create");
  resolve(g_real.fork, "fork");
  resolve(g_real.dlopen, "dlopen");
  resolve(g_real.dlclose, "dlclose");
  resolve(g_real.underscore_exit, "_exit");
  resolve(g_real.prctl, "prctl");
  resolve(g_real.quick_exit, "quick_exit");
  resolve(g_real.syscall, "syscall");
  resolve(g_real.execve, "execve");
  resolve(g_real.execvpe, "execvpe");
  resolve(g_real.fexecve, "fexecve");
  resolve(g_real.execveat, "execveat");
  resolve(g_real.sigaction, "sigaction");
  resolve(g_real.signal, "signal");
}

}  // namespace

bool resolve_real_functions() {
  int state = g_state.load(std::memory_order_acquire);
  if (state == kResolved) return true;
  if (state == kResolving) return false;  // dlsym re-entered us, or another thread resolves
  int expected = kUnresolved;
  if (!g_state.compare_exchange_strong(expected, kResolving)) return false;
  resolve_all();
  g_state.store(kResolved, std::memory_order_release);
  g_real_resolved.store(true, std::memory_order_release);
  ScopedMode passthrough(ThreadMode::kPassthrough);
  first_contact();
  return true;
}

void* bootstrap_allocate(size_t size, size_t alignment) {
  if (alignment < kHeader) alignment = kHeader;
  size_t need = size + kHeader + alignment;
  size_t start = g_pool_used.fetch_add(need);
  if (start + need > kBootstrapBytes) return nullptr;
  auto addr = reinterpret_cast<uintptr_t>(g_bootstrap_pool + start + kHeader);
  addr = (addr + alignment - 1) & ~(alignment - 1);
  reinterpret_cast<size_t*>(addr)[-1] = size;
  return reinterpret_cast<void*>(addr);
}

size_t bootstrap_block_size(const void* p) {
  return static_cast<const size_t*>(p)[-1];
}

long raw_syscall(long number, const long args[6]) {
#if defined(__x86_64__)
  register long r10 asm("r10") = args[3];
  register long r8 asm("r8") = args[4];
  register long r9 asm("r9") = args[5];
  long rc;
  asm volatile("syscall"
               : "=a"(rc)
               : "a"(number), "D"(args[0]), "S"(args[1]), "d"(args[2]), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
#elif defined(__aarch64__)
  register long x8 asm("x8") = number;
  register long x0 asm("x0") = args[0];
  register long x1 asm("x1") = args[1];
  register long x2 asm("x2") = args[2];
  register long x3 asm("x3") = args[3];
  register long x4 asm("x4") = args[4];
  register long x5 asm("x5") = args[5];
  asm volatile("svc 0"
               : "+r"(x0)
               : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
               : "memory");
  long rc = x0;
#else
#error "raw_syscall: add this architecture's system call instruction"
#endif
  if (rc < 0 && rc > -4096) {
    errno = static_cast<int>(-rc);
    return -1;
  }
  return rc;
}

}  // namespace memscope::agent
