// See agent_memory.hpp. The __wrap_* functions are the targets of the linker's --wrap options
// (agent/CMakeLists.txt): every malloc/free reference inside the agent library, including the
// statically linked libstdc++, zstd and xxHash, lands here instead of the program's malloc.
#include "agent/agent_memory.hpp"

#include <cstring>

#include "agent/private_heap.hpp"
#include "agent/real_functions.hpp"
#include "agent/thread_mode.hpp"

namespace memscope::agent::memory {
namespace {

// Constant-initialized: libstdc++'s own static constructors allocate before ours run.
constinit PrivateHeap g_heap;
// Blocks of kUnsharedFrom bytes or more allocated inside a ScopedUnshared: a fork child sees
// this region as zeros. Smaller ones cost the parent a fault or two per fork at most, where a
// short-lived child would take a fresh page for each size it allocates there.
constexpr size_t kUnsharedFrom = 16 << 10;
constinit PrivateHeap g_unshared_heap(PrivateHeap::kMaxRegionBytes, PrivateHeap::ForkCopy::kWiped);
// The sidecar's (the one agent thread: it blocks every signal, so nothing interrupts its use).
constinit PrivateHeap::LocalCache g_sidecar_cache;

bool on_sidecar() {
  return t_mode == ThreadMode::kAgentThread;
}

// Only when no region could be reserved (a tight RLIMIT_AS): the program's allocator, untraced.
void* fallback_allocate(size_t n) {
  if (!real_functions_ready()) return bootstrap_allocate(n, 16);
  return g_real.malloc(n);
}

}  // namespace

void* allocate(size_t size) {
  if (t_unshared_depth > 0 && size >= kUnsharedFrom && g_unshared_heap.usable())
    if (void* p = g_unshared_heap.allocate(size)) return p;
  if (!g_heap.usable()) return fallback_allocate(size);
  return on_sidecar() ? g_heap.allocate(size, g_sidecar_cache) : g_heap.allocate(size);
}

void* allocate_zeroed(size_t count, size_t size) {
  if (g_heap.usable()) return g_heap.allocate_zeroed(count, size);
  if (!real_functions_ready()) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) return nullptr;
    return bootstrap_allocate(total, 16);  // the pool is static, hence zeroed
  }
  return g_real.calloc(count, size);
}

void* allocate_aligned(size_t alignment, size_t size) {
  if (g_heap.usable()) return g_heap.allocate_aligned(alignment, size);
  if (!real_functions_ready()) return bootstrap_allocate(size, alignment);
  return g_real.memalign(alignment, size);
}

// A block that is not ours came from the program's allocator (handed to an agent thread by
// libc, or served while no region could be reserved): it goes back there.
void* reallocate(void* ptr, size_t size) {
  if (ptr == nullptr) return allocate(size);
  if (g_heap.owns(ptr)) return g_heap.reallocate(ptr, size);
  if (g_unshared_heap.owns(ptr)) return g_unshared_heap.reallocate(ptr, size);
  if (in_bootstrap_pool(ptr) || !real_functions_ready()) {
    void* fresh = allocate(size);
    size_t old = in_bootstrap_pool(ptr) ? bootstrap_block_size(ptr) : 0;
    if (fresh && old) std::memcpy(fresh, ptr, old < size ? old : size);
    return fresh;
  }
  return g_real.realloc(ptr, size);
}

void release(void* ptr) {
  if (ptr == nullptr || in_bootstrap_pool(ptr)) return;
  if (g_heap.owns(ptr)) {
    on_sidecar() ? g_heap.release(ptr, g_sidecar_cache) : g_heap.release(ptr);
  } else if (g_unshared_heap.owns(ptr)) {
    g_unshared_heap.release(ptr);
  } else if (real_functions_ready()) {
    g_real.free(ptr);
  }
}

void forget_sidecar_cache() {
  g_sidecar_cache = {};
  g_unshared_heap.forget_after_fork();
}

}  // namespace memscope::agent::memory

namespace m = memscope::agent::memory;

extern "C" {
void* __wrap_malloc(size_t n) {
  return m::allocate(n);
}
void* __wrap_calloc(size_t c, size_t n) {
  return m::allocate_zeroed(c, n);
}
void* __wrap_realloc(void* p, size_t n) {
  return m::reallocate(p, n);
}
void __wrap_free(void* p) {
  m::release(p);
}
void* __wrap_aligned_alloc(size_t a, size_t n) {
  return m::allocate_aligned(a, n);
}
int __wrap_posix_memalign(void** out, size_t a, size_t n) {
  *out = m::allocate_aligned(a, n);
  return *out ? 0 : 12;  // ENOMEM
}
}
