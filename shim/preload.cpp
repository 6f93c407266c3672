// The interposed symbols, one line each. Preloaded into the traced program (LD_PRELOAD), these
// definitions come before libc's in the global scope; each forwards to one agent entry point.
// Nothing else belongs here: no state, no logic, no allocation.
#include <cstdarg>

#include "agent/entry_points.hpp"

namespace a = memscope::agent;

// One line per hooked function is the point of this file, so the formatter stays out.
// clang-format off
#define MEMSCOPE_EXPORT extern "C" __attribute__((visibility("default")))

MEMSCOPE_EXPORT void* malloc(size_t n) { return a::on_malloc(n); }
MEMSCOPE_EXPORT void free(void* p) { a::on_free(p); }
MEMSCOPE_EXPORT void* calloc(size_t c, size_t n) { return a::on_calloc(c, n, __builtin_return_address(0)); }
MEMSCOPE_EXPORT void* realloc(void* p, size_t n) { return a::on_realloc(p, n); }
MEMSCOPE_EXPORT void* reallocarray(void* p, size_t c, size_t n) { return a::on_reallocarray(p, c, n); }
MEMSCOPE_EXPORT int posix_memalign(void** o, size_t al, size_t n) { return a::on_posix_memalign(o, al, n); }
MEMSCOPE_EXPORT void* aligned_alloc(size_t al, size_t n) { return a::on_aligned_alloc(al, n); }
MEMSCOPE_EXPORT void* memalign(size_t al, size_t n) { return a::on_memalign(al, n); }
MEMSCOPE_EXPORT void* valloc(size_t n) { return a::on_valloc(n); }
MEMSCOPE_EXPORT void* pvalloc(size_t n) { return a::on_pvalloc(n); }

MEMSCOPE_EXPORT int pthread_create(pthread_t* t, const pthread_attr_t* at, void* (*f)(void*), void* arg) { return a::on_pthread_create(t, at, f, arg); }
MEMSCOPE_EXPORT pid_t fork() { return a::on_fork(); }
MEMSCOPE_EXPORT void* dlopen(const char* f, int m) { return a::on_dlopen(f, m); }
MEMSCOPE_EXPORT int dlclose(void* h) { return a::on_dlclose(h); }
MEMSCOPE_EXPORT void _exit(int s) { a::on_underscore_exit(s); }
MEMSCOPE_EXPORT int prctl(int o, ...) { va_list r; va_start(r, o); int rc = a::on_prctl(o, r); va_end(r); return rc; }
MEMSCOPE_EXPORT void _Exit(int s) { a::on_underscore_exit(s); }
MEMSCOPE_EXPORT void quick_exit(int s) { a::on_quick_exit(s); }
MEMSCOPE_EXPORT long syscall(long n, ...) { va_list r; va_start(r, n); long rc = a::on_syscall(n, r); va_end(r); return rc; }
MEMSCOPE_EXPORT int sigaction(int s, const struct sigaction* act, struct sigaction* old) { return a::on_sigaction(s, act, old); }
MEMSCOPE_EXPORT sighandler_t signal(int s, sighandler_t h) { return a::on_signal(s, h); }

MEMSCOPE_EXPORT int execve(const char* p, char* const v[], char* const e[]) { return a::on_execve(p, v, e); }
MEMSCOPE_EXPORT int execv(const char* p, char* const v[]) { return a::on_execv(p, v); }
MEMSCOPE_EXPORT int execvp(const char* f, char* const v[]) { return a::on_execvp(f, v); }
MEMSCOPE_EXPORT int execvpe(const char* f, char* const v[], char* const e[]) { return a::on_execvpe(f, v, e); }
MEMSCOPE_EXPORT int fexecve(int fd, char* const v[], char* const e[]) { return a::on_fexecve(fd, v, e); }
MEMSCOPE_EXPORT int execveat(int d, const char* p, char* const v[], char* const e[], int f) { return a::on_execveat(d, p, v, e, f); }
MEMSCOPE_EXPORT int execl(const char* p, const char* arg, ...) { va_list r; va_start(r, arg); int rc = a::on_execl_family('l', p, arg, r); va_end(r); return rc; }
MEMSCOPE_EXPORT int execlp(const char* f, const char* arg, ...) { va_list r; va_start(r, arg); int rc = a::on_execl_family('p', f, arg, r); va_end(r); return rc; }
MEMSCOPE_EXPORT int execle(const char* p, const char* arg, ...) { va_list r; va_start(r, arg); int rc = a::on_execl_family('e', p, arg, r); va_end(r); return rc; }
// clang-format on
