// The dynamic loader sizes each new thread's DTV (its table of TLS modules) by the number of
// modules with thread-local storage, and allocates it with calloc(count, 16). memscope's own
// modules (the agent) make that table longer
// than the program alone would have it; recording the loader's calloc as the program would see
// it keeps counts and bytes equal to an untraced run (and to DHAT's).
#pragma once

#include <cstddef>

namespace memscope::agent {

// Recounts memscope's TLS modules; call after each library the agent loads itself.
void count_memscope_tls_modules();
// The size to record for calloc(count, size) called from `caller`.
size_t program_visible_calloc_bytes(size_t count, size_t size, const void* caller);

}  // namespace memscope::agent
