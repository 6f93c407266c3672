// The agent's entry points: the only functions the shim (shim/preload.cpp) calls. Each hooked
// symbol maps to exactly one of these; all logic lives behind them in agent/.
//
// Adding an interceptor: declare its entry point here, add one line to shim/preload.cpp that
// forwards to it, resolve the next definition in agent/real_functions.cpp, and implement it in
// agent/hooks.cpp (allocation family), agent/process_hooks.cpp (threads, fork, exec, exits,
// dl*) or agent/endings.cpp (signal dispositions).
#pragma once

#include <pthread.h>
#include <signal.h>
#include <sys/types.h>

#include <cstdarg>
#include <cstddef>

namespace memscope::agent {

void* on_malloc(size_t size);
void on_free(void* ptr);
// `caller` lets the loader's per-thread TLS table be recorded at its untraced size.
void* on_calloc(size_t count, size_t size, const void* caller);
void* on_realloc(void* ptr, size_t size);
void* on_reallocarray(void* ptr, size_t count, size_t size);
int on_posix_memalign(void** out, size_t alignment, size_t size);
void* on_aligned_alloc(size_t alignment, size_t size);
void* on_memalign(size_t alignment, size_t size);
void* on_valloc(size_t size);
void* on_pvalloc(size_t size);

int on_pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*start)(void*),
                      void* arg);
pid_t on_fork();
void* on_dlopen(const char* file, int mode);
int on_dlclose(void* handle);
// _exit and _Exit (one function in glibc).
[[noreturn]] void on_underscore_exit(int status);
// prctl's four optional arguments are in `rest` (glibc's own prctl reads four as well).
int on_prctl(int option, va_list rest);
[[noreturn]] void on_quick_exit(int status);
// syscall(number, ...): six long arguments are read from `rest`, as glibc's syscall() does.
long on_syscall(long number, va_list rest);
int on_sigaction(int sig, const struct sigaction* act, struct sigaction* old);
sighandler_t on_signal(int sig, sighandler_t handler);

int on_execve(const char* path, char* const argv[], char* const envp[]);
int on_execv(const char* path, char* const argv[]);
int on_execvp(const char* file, char* const argv[]);
int on_execvpe(const char* file, char* const argv[], char* const envp[]);
int on_fexecve(int fd, char* const argv[], char* const envp[]);
int on_execveat(int dirfd, const char* path, char* const argv[], char* const envp[], int flags);
// execl, execlp, execle: `variant` is 'l', 'p' or 'e'; the list after `arg` is in `rest`.
int on_execl_family(char variant, const char* path, const char* arg, va_list rest);

}  // namespace memscope::agent
