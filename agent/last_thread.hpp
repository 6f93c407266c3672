// When the program's last thread is gone, the sidecar alone keeps the process alive (and, as it
// blocks every signal, makes a pending SIGTERM undeliverable). That happens when the main thread
// leaves before the others, with pthread_exit or with a raw exit system call (a thread in seccomp
// strict mode has no other way out). The sidecar asks here, every cycle, and then ends the
// process the way it would have ended without us:
// - glibc counts its threads and the last one to leave through pthread_exit or a return from its
//   start routine calls exit(0). When the sidecar is the only thread glibc still counts, that
//   exit(0) is owed: a thread calls exit(0) (atexit handlers, stdio, our final flush), with the
//   program's signal mask and the main thread's name. A program thread starts it, parked, as
//   the main thread leaves (or as a thread leaves after it), so that it shares the program's
//   descriptor table; the sidecar only releases it.
// - A thread that left by a raw exit system call is never counted out. When the main thread is
//   gone and the kernel runs no thread but the sidecar, the process ends with no exit() at all,
//   with the status of its last thread: 0 when a glibc thread outlived the main thread (glibc's
//   threads leave with 0), else the main thread's own status (its exit code, or the SIGKILL of
//   a seccomp-strict thread that made a forbidden system call, which kills only that thread).
// Both come from glibc's interface for libthread_db (GLIBC_PRIVATE symbols): the thread count
// __nptl_nthreads, and where struct pthread keeps the tid the kernel clears when the main thread
// is gone (_thread_db_pthread_tid). Without them the census always says "running".
#pragma once

#include <cstdint>

namespace memscope::agent {

enum class ProgramThreads { kRunning, kExitOwed, kAllGone };

// On the thread that starts tracing (the main thread when memscope-run preloads us).
void init_last_thread();
// A thread leaving through glibc (the registry's thread-end destructor), on that thread.
void note_thread_leaving();

// Sidecar side. Cheap (two loads) while the main thread lives; after it left, reads
// /proc/self/stat at most every 100 ms, and every cycle for 50 ms after a thread ended.
ProgramThreads program_threads_left(uint64_t now_ns);
// Releases the parked thread that calls the owed exit(0), or starts one; false if it cannot.
bool start_exit_thread();
// kAllGone: the status (as waitpid reports it) the kernel would have reported.
int all_gone_status();
// kAllGone, after the final flush: ends the process with that status.
[[noreturn]] void end_process_with(int wait_status);
// The kernel's count of the process's threads (from /proc/self/task, opening nothing); -1
// unknown.
long kernel_thread_count();
// Sidecar, at its start: opens /proc/self/stat once for the program_threads_left() looks.
void keep_process_stat();
// memscope's own threads now: the sidecar, and the parked exit thread where there is one.
unsigned memscope_thread_count();
// Before the sidecar itself calls exit(0) (when no exit thread could be started).
void restore_program_signal_mask();

}  // namespace memscope::agent
