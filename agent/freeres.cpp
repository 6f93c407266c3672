// See freeres.hpp. Why the handler is registered with no DSO handle: a handler registered with
// the agent's (what atexit() does) would run when the loader finalizes the agent, before the
// libraries finalized after it (libstdc++, the program's own libraries) ran their destructors.
//
// __gnu_cxx::__freeres frees libstdc++'s emergency exception pool; __libc_freeres flushes and
// unbuffers stdio and frees its buffers, locale, iconv, NSS and loader data. Both are made for
// the very end of a process with one thread: freeing under a running thread could pull its
// buffers away, and from inside a signal handler the interrupted code may hold the locks they
// take. After them nothing of the agent touches stdio (messages.cpp uses writev); later
// frees are harmless, since freed buffers are forgotten (stdio is left unbuffered).
#include "agent/freeres.hpp"

#include <dlfcn.h>
#include <link.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <ctime>

#include "agent/agent_state.hpp"
#include "agent/config.hpp"
#include "agent/last_thread.hpp"
#include "agent/leak_scan.hpp"
#include "agent/lifecycle.hpp"
#include "agent/stack_capture.hpp"
#include "agent/thread_mode.hpp"
#include "agent/thread_registry.hpp"

extern "C" int __cxa_atexit(void (*fn)(void*), void* arg, void* dso_handle);

namespace memscope::agent {
namespace {

using format::FreeresOutcome;

std::atomic<bool> g_registered{false};

}  // namespace

std::atomic<bool> g_freeing_runtime{false};

namespace {

// Program threads other than the caller that the registry knows alive (the kernel confirms).
bool registered_threads_running() {
  auto self = static_cast<pid_t>(syscall(SYS_gettid));
  for (ThreadState* ts = registry_head(); ts != nullptr; ts = ts->next) {
    if (ts->phase.load() != ThreadPhase::kLive || ts->tid == self) continue;
    if (syscall(SYS_tgkill, getpid(), ts->tid, 0) == 0) return true;
  }
  return false;
}

// Threads the registry no longer lists can still be leaving (a detached thread past its
// destructors, freeing its stack in glibc's lists, which __libc_freeres frees too; even a joined
// thread counts until the kernel has released it, a moment after pthread_join returns): only
// the kernel's count says none is left but the caller and memscope's own. Leaving threads get
// up to 200 ms to be gone, which a loaded machine needs; a thread still running that the
// registry does not know (started before the agent) costs that wait once, at exit.
bool other_threads_running() {
  if (registered_threads_running()) return true;
  long alone = 1 + static_cast<long>(memscope_thread_count());
  for (int attempt = 0; attempt < 50; ++attempt) {
    long threads = kernel_thread_count();
    if (threads < 0) return true;  // cannot tell: do not risk it
    if (threads <= alone) return false;
    timespec pause{0, 4'000'000L};
    nanosleep(&pause, nullptr);
  }
  return true;
}

// Whether a module whose file name starts with `prefix` is loaded: a dlsym that fails would
// allocate its error message.
bool module_loaded(const char* prefix) {
  return dl_iterate_phdr(
             [](dl_phdr_info* info, size_t, void* data) {
               const char* slash = strrchr(info->dlpi_name, '/');
               const char* name = slash ? slash + 1 : info->dlpi_name;
               auto* want = static_cast<const char*>(data);
               return strncmp(name, want, strlen(want)) == 0 ? 1 : 0;
             },
             const_cast<char*>(prefix)) != 0;
}

using Freeres = void (*)();

Freeres find(const char* module, const char* symbol) {
  if (!module_loaded(module)) return nullptr;
  ScopedMode passthrough(ThreadMode::kPassthrough);
  return reinterpret_cast<Freeres>(dlsym(RTLD_DEFAULT, symbol));
}

FreeresOutcome free_runtime_buffers() {
  if (!g_config.freeres) return FreeresOutcome::kOff;
  if (inside_signal_handler()) return FreeresOutcome::kSignalHandler;
  if (other_threads_running()) return FreeresOutcome::kOtherThreads;
  Freeres cxx = find("libstdc++.so", "_ZN9__gnu_cxx9__freeresEv");
  Freeres libc = find("libc.so", "__libc_freeres");
  if (cxx == nullptr && libc == nullptr) return FreeresOutcome::kNotFound;
  // The C++ runtime first, as valgrind does: its pool came from malloc, which libc's pass
  // leaves working.
  g_freeing_runtime.store(true);
  if (cxx != nullptr) cxx();
  if (libc != nullptr) libc();
  g_freeing_runtime.store(false);
  return FreeresOutcome::kRan;
}

void at_process_end(void*) {
  note_exit_point_here();  // before freeres' frames leave stale copies below
  note_freeres(free_runtime_buffers());
  finish_tracing(format::EndReason::kExit, 0);
}

}  // namespace

void register_process_end() {
  if (__cxa_atexit(at_process_end, nullptr, nullptr) == 0) g_registered.store(true);
}

bool process_end_registered() {
  return g_registered.load();
}

}  // namespace memscope::agent
