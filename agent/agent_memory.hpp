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
// are left to the child's copy of the parent's memory).
void forget_sidecar_cache();

}  // namespace memscope::agent::memory
