// The allocation-family entry points: call the program's own allocator, then record what it
// did. The agent's own threads are served by the agent allocator instead, and anything that
// arrives before the next definitions are resolved comes from the bootstrap pool.
#include <cerrno>
#include <cstring>

#include "agent/agent_memory.hpp"
#include "agent/agent_state.hpp"
#include "agent/entry_points.hpp"
#include "agent/loader_tls.hpp"
#include "agent/real_functions.hpp"
#include "agent/recorder.hpp"
#include "agent/thread_mode.hpp"
#include "agent/untracked_blocks.hpp"

namespace memscope::agent {
namespace {

using format::AllocFn;

bool agent_thread() {
  return t_mode == ThreadMode::kAgentThread;
}

template <typename Call>
void* traced_alloc(AllocFn fn, size_t size, Call&& call) {
  void* p = call();
  if (p != nullptr && recording_here()) {
    record_alloc(fn, p, size);
  } else if (p != nullptr && t_mode == ThreadMode::kPassthrough) {
    remember_untracked(p);
  }
  return p;
}

// realloc before resolution finished (old is null or a pool block), or of a pool block later.
void* realloc_bootstrap_block(void* old, size_t size) {
  void* fresh = on_malloc(size);
  size_t old_size = in_bootstrap_pool(old) ? bootstrap_block_size(old) : 0;
  if (fresh != nullptr) std::memcpy(fresh, old, old_size < size ? old_size : size);
  return fresh;
}

template <typename Call>
void* traced_realloc(AllocFn fn, void* old, size_t size, Call&& call) {
  if (old == nullptr) return traced_alloc(fn, size, call);
  if (!recording_here()) {
    void* p = call();
    if (p != nullptr && t_mode == ThreadMode::kPassthrough && forget_untracked(old))
      remember_untracked(p);
    return p;
  }
  PendingRealloc pending = begin_realloc(fn, old, size);
  void* p = call();
  finish_realloc(pending, p);
  return p;
}

}  // namespace

void* on_malloc(size_t size) {
  if (!real_functions_ready()) return bootstrap_allocate(size, 16);
  if (agent_thread()) return memory::allocate(size);
  return traced_alloc(AllocFn::kMalloc, size, [&] { return g_real.malloc(size); });
}

void on_free(void* ptr) {
  if (ptr == nullptr || in_bootstrap_pool(ptr)) return;
  if (!real_functions_ready()) return;  // cannot be ours to free: nothing was handed out yet
  if (agent_thread()) return memory::release(ptr);
  if (t_mode == ThreadMode::kPassthrough) {
    forget_untracked(ptr);
  } else if (recording_here() && !(g_freeing_runtime.load() && forget_untracked(ptr))) {
    record_free(ptr);
  }
  g_real.free(ptr);
}

void* on_calloc(size_t count, size_t size, const void* caller) {
  if (!real_functions_ready()) return memory::allocate_zeroed(count, size);
  if (agent_thread()) return memory::allocate_zeroed(count, size);
  return traced_alloc(AllocFn::kCalloc, program_visible_calloc_bytes(count, size, caller),
                      [&] { return g_real.calloc(count, size); });
}

void* on_realloc(void* ptr, size_t size) {
  if (!real_functions_ready() || in_bootstrap_pool(ptr)) return realloc_bootstrap_block(ptr, size);
  if (agent_thread()) return memory::reallocate(ptr, size);
  return traced_realloc(AllocFn::kRealloc, ptr, size, [&] { return g_real.realloc(ptr, size); });
}

// glibc's reallocarray calls realloc through the PLT, which would record the block twice: do
// the overflow check here and call the program's realloc once.
void* on_reallocarray(void* ptr, size_t count, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  if (!real_functions_ready() || in_bootstrap_pool(ptr)) return realloc_bootstrap_block(ptr, total);
  if (agent_thread()) return memory::reallocate(ptr, total);
  return traced_realloc(AllocFn::kReallocarray, ptr, total,
                        [&] { return g_real.realloc(ptr, total); });
}

int on_posix_memalign(void** out, size_t alignment, size_t size) {
  if (!real_functions_ready() || agent_thread()) {
    *out = memory::allocate_aligned(alignment, size);
    return *out ? 0 : 12;
  }
  int rc = g_real.posix_memalign(out, alignment, size);
  if (rc == 0 && recording_here()) record_alloc(AllocFn::kPosixMemalign, *out, size);
  return rc;
}

void* on_aligned_alloc(size_t alignment, size_t size) {
  if (!real_functions_ready() || agent_thread()) return memory::allocate_aligned(alignment, size);
  return traced_alloc(AllocFn::kAlignedAlloc, size,
                      [&] { return g_real.aligned_alloc(alignment, size); });
}

void* on_memalign(size_t alignment, size_t size) {
  if (!real_functions_ready() || agent_thread()) return memory::allocate_aligned(alignment, size);
  return traced_alloc(AllocFn::kMemalign, size, [&] { return g_real.memalign(alignment, size); });
}

void* on_valloc(size_t size) {
  if (!real_functions_ready() || agent_thread()) return memory::allocate_aligned(4096, size);
  return traced_alloc(AllocFn::kValloc, size, [&] { return g_real.valloc(size); });
}

void* on_pvalloc(size_t size) {
  if (!real_functions_ready() || agent_thread()) return memory::allocate_aligned(4096, size);
  return traced_alloc(AllocFn::kPvalloc, size, [&] { return g_real.pvalloc(size); });
}

}  // namespace memscope::agent
