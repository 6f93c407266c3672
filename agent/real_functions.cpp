// Resolution of the next definitions (see real_functions.hpp) and the bootstrap pool that serves
// allocations made while dlsym runs, before any constructor of ours has run.
#include "agent/real_functions.hpp"

#include <dlfcn.h>

#include <atomic>
#include <cstdint>

#include "agent/lifecycle.hpp"
#include "agent/thread_mode.hpp"

namespace memscope::agent {

RealFunctions g_real;

namespace {

constexpr size_t kBootstrapBytes = 256 * 1024;
alignas(64) unsigned char g_pool[kBootstrapBytes];
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
  resolve(g_real.pipe2, "pipe2");
  resolve(g_real.prctl, "prctl");
  resolve(g_real.execve, "execve");
  resolve(g_real.execvpe, "execvpe");
  resolve(g_real.fexecve, "fexecve");
}

}  // namespace

bool real_functions_ready() {
  int state = g_state.load(std::memory_order_acquire);
  if (state == kResolved) return true;
  if (state == kResolving) return false;  // dlsym re-entered us, or another thread resolves
  int expected = kUnresolved;
  if (!g_state.compare_exchange_strong(expected, kResolving)) return false;
  resolve_all();
  g_state.store(kResolved, std::memory_order_release);
  ScopedMode passthrough(ThreadMode::kPassthrough);
  first_contact();
  return true;
}

bool in_bootstrap_pool(const void* p) {
  auto a = reinterpret_cast<uintptr_t>(p);
  auto base = reinterpret_cast<uintptr_t>(g_pool);
  return a >= base && a < base + kBootstrapBytes;
}

void* bootstrap_allocate(size_t size, size_t alignment) {
  if (alignment < kHeader) alignment = kHeader;
  size_t need = size + kHeader + alignment;
  size_t start = g_pool_used.fetch_add(need);
  if (start + need > kBootstrapBytes) return nullptr;
  auto addr = reinterpret_cast<uintptr_t>(g_pool + start + kHeader);
  addr = (addr + alignment - 1) & ~(alignment - 1);
  reinterpret_cast<size_t*>(addr)[-1] = size;
  return reinterpret_cast<void*>(addr);
}

size_t bootstrap_block_size(const void* p) {
  return static_cast<const size_t*>(p)[-1];
}

}  // namespace memscope::agent
