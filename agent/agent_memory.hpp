// The agent's own memory: mimalloc, loaded privately (dlopen RTLD_LOCAL) so that it never
// enters the global scope, where Debian's libmimalloc would replace the program's malloc.
// Until mimalloc is loaded (or if it cannot be), the program's next allocator serves us,
// untraced. Every agent-internal allocation reaches here: the C++ runtime and static libraries
// linked into the agent through the linker's --wrap, the sidecar thread through the hooks.
#pragma once

#include <cstddef>

namespace memscope::agent::memory {

// Loads mimalloc; safe to call more than once; call from an agent code path after libc is up.
void load_private_allocator();
bool private_allocator_loaded();

void* allocate(size_t size);
void* allocate_zeroed(size_t count, size_t size);
void* reallocate(void* ptr, size_t size);
void* allocate_aligned(size_t alignment, size_t size);
void release(void* ptr);

}  // namespace memscope::agent::memory
