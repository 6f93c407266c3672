// See agent_memory.hpp. The __wrap_* functions are the targets of the linker's --wrap options
// (agent/CMakeLists.txt): every malloc/free reference inside the agent library, including the
// statically linked libstdc++, zstd and xxHash, lands here instead of the program's malloc.
#include "agent/agent_memory.hpp"

#include <dlfcn.h>

#include <atomic>
#include <cstring>

#include "agent/real_functions.hpp"
#include "agent/thread_mode.hpp"

namespace memscope::agent::memory {
namespace {

struct Mimalloc {
  void* (*malloc)(size_t);
  void* (*calloc)(size_t, size_t);
  void* (*realloc)(void*, size_t);
  void* (*malloc_aligned)(size_t, size_t);
  void (*free)(void*);
  bool (*is_in_heap_region)(const void*);
};

Mimalloc g_mi;
std::atomic<bool> g_loaded{false};

template <typename F>
bool bind(void* lib, F& slot, const char* name) {
  slot = reinterpret_cast<F>(dlsym(lib, name));
  return slot != nullptr;
}

bool owned_by_mimalloc(const void* p) {
  return g_loaded.load(std::memory_order_acquire) && g_mi.is_in_heap_region(p);
}

void* fallback_allocate(size_t n) {
  if (!real_functions_ready()) return bootstrap_allocate(n, 16);
  return g_real.malloc(n);
}

}  // namespace

void load_private_allocator() {
  if (g_loaded.load()) return;
  ScopedMode passthrough(ThreadMode::kPassthrough);
  void* lib = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return;  // the program's allocator keeps serving us, untraced
  bool ok = bind(lib, g_mi.malloc, "mi_malloc") && bind(lib, g_mi.calloc, "mi_calloc") &&
            bind(lib, g_mi.realloc, "mi_realloc") &&
            bind(lib, g_mi.malloc_aligned, "mi_malloc_aligned") &&
            bind(lib, g_mi.free, "mi_free") &&
            bind(lib, g_mi.is_in_heap_region, "mi_is_in_heap_region");
  if (ok) g_loaded.store(true, std::memory_order_release);
}

bool private_allocator_loaded() {
  return g_loaded.load(std::memory_order_acquire);
}

void* allocate(size_t size) {
  if (g_loaded.load(std::memory_order_acquire)) return g_mi.malloc(size);
  return fallback_allocate(size);
}

void* allocate_zeroed(size_t count, size_t size) {
  if (g_loaded.load(std::memory_order_acquire)) return g_mi.calloc(count, size);
  if (!real_functions_ready()) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) return nullptr;
    return bootstrap_allocate(total, 16);  // the pool is static, hence zeroed
  }
  return g_real.calloc(count, size);
}

void* allocate_aligned(size_t alignment, size_t size) {
  if (g_loaded.load(std::memory_order_acquire)) return g_mi.malloc_aligned(size, alignment);
  if (!real_functions_ready()) return bootstrap_allocate(size, alignment);
  return g_real.memalign(alignment, size);
}

void* reallocate(void* ptr, size_t size) {
  if (ptr == nullptr) return allocate(size);
  if (owned_by_mimalloc(ptr)) return g_mi.realloc(ptr, size);
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
  if (owned_by_mimalloc(ptr)) {
    g_mi.free(ptr);
  } else if (real_functions_ready()) {
    g_real.free(ptr);
  }
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
