// The agent's own memory: the agent's private heap (private_heap.hpp), reserved with mmap on
// first use, so that no allocator is loaded at run time and none enters the program's link map
// or symbol scope. Only if no region can be reserved does the program's next allocator serve
// us, untraced (before it is resolved, the bootstrap pool). Every agent-internal allocation
// reaches here: the C++ runtime and static libraries linked into the agent through the
// linker's --wrap, the sidecar thread through the hooks. Lock-free throughout: safe in signal
// handlers and across fork.
#pragma once

#include <cstddef>

namespace memscope::agent::memory {

void* allocate(size_t size);
void* allocate_zeroed(size_t count, size_t size);
void* reallocate(void* ptr, size_t size);
void* allocate_aligned(size_t alignment, size_t size);
void release(void* ptr);
// In a fork child, first thing: the parent's sidecar may have been inside its cache (its blocks
// are left to the child's copy of the parent's memory), and the unshared blocks (below) are gone.
void forget_sidecar_cache();

// How many ScopedUnshared the calling thread is inside (header-only: OnlineHeap's unit test
// links no agent allocator).
inline thread_local constinit int t_unshared_depth __attribute__((tls_model("initial-exec"))) = 0;

// While one lives, the calling thread's allocations of 16 KiB or more come from a second private
// heap that a fork child sees as zeros (PrivateHeap::ForkCopy::kWiped): after a fork, the parent's
// sidecar writes them without a copy-on-write fault per page. Only around buffers that no fork
// child reads (the parent's sidecar object is abandoned there: sidecar.hpp).
struct ScopedUnshared {
  ScopedUnshared() { ++t_unshared_depth; }
  ~ScopedUnshared() { --t_unshared_depth; }
  ScopedUnshared(const ScopedUnshared&) = delete;
  ScopedUnshared& operator=(const ScopedUnshared&) = delete;
};

}  // namespace memscope::agent::memory
