// See stack_capture.hpp.
#include "agent/stack_capture.hpp"

#include <dlfcn.h>
#include <link.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "agent/config.hpp"
#include "agent/entry_points.hpp"
#include "agent/real_functions.hpp"
#include "agent/thread_mode.hpp"
#include "collector/linux/own_descriptors.hpp"

namespace memscope::agent {
namespace {

// libunwind is loaded privately (RTLD_LOCAL): its shared library exports _Unwind_* symbols that,
// in the global scope, would take over the program's C++ exception handling.
using Backtrace = int (*)(void**, int);
Backtrace g_backtrace = nullptr;

// libunwind 1.6 checks an address before reading it by writing the byte there into a pipe it
// keeps in statics (after reading one byte back); when that read fails (the program closed the
// pipe) it closes both numbers and makes a new pair with pipe2. Those numbers must never be the
// program's: a file it opened there would get bytes of our memory and its offset moved, and a
// blocking pipe of its own would block the unwinder for ever. While this thread is in the
// unwinder, pipe2 (interposed: on_pipe2) puts the pair above the floor.
thread_local bool t_in_unwinder __attribute__((tls_model("initial-exec"))) = false;

struct InUnwinder {
  InUnwinder() { t_in_unwinder = true; }
  ~InUnwinder() { t_in_unwinder = false; }
  InUnwinder(const InUnwinder&) = delete;
  InUnwinder& operator=(const InUnwinder&) = delete;
};

void load_unwinder() {
  InUnwinder in_unwinder;  // its first pipe is made while the caching policy is set
  void* lib = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return;
  // The local-only unwinder's names (libunwind.h maps unw_* to these with UNW_LOCAL_ONLY).
  using SetCaching = int (*)(void*, int);
  auto set_caching = reinterpret_cast<SetCaching>(dlsym(lib, "_ULx86_64_set_caching_policy"));
  auto* address_space = static_cast<void**>(dlsym(lib, "_ULx86_64_local_addr_space"));
  constexpr int kCachePerThread = 2;  // UNW_CACHE_PER_THREAD
  if (set_caching && address_space) set_caching(*address_space, kCachePerThread);
  g_backtrace = reinterpret_cast<Backtrace>(dlsym(lib, "_ULx86_64_backtrace"));
  if (g_backtrace == nullptr)
    g_backtrace = reinterpret_cast<Backtrace>(dlsym(lib, "unw_backtrace"));
}

uintptr_t g_self_begin = 0;
uintptr_t g_self_end = 0;

int find_self(dl_phdr_info* info, size_t, void* data) {
  auto probe = reinterpret_cast<uintptr_t>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    if (probe >= begin && probe < begin + ph.p_memsz) {
      g_self_begin = info->dlpi_addr;
      for (int j = 0; j < info->dlpi_phnum; ++j) {
        const auto& seg = info->dlpi_phdr[j];
        if (seg.p_type == PT_LOAD)
          g_self_end = std::max<uintptr_t>(g_self_end, info->dlpi_addr + seg.p_vaddr + seg.p_memsz);
      }
      return 1;
    }
  }
  return 0;
}

// libunwind's thread-local state is dynamic TLS: the loader allocates it, through malloc, on a
// thread's first unwind. That first unwind runs in passthrough mode so the loader's allocation
// is neither recorded nor recursed into; later unwinds allocate nothing.
thread_local bool t_unwinder_ready __attribute__((tls_model("initial-exec"))) = false;

int backtrace_here(void** frames, int max) {
  InUnwinder in_unwinder;
  if (t_unwinder_ready) return g_backtrace(frames, max);
  ScopedMode passthrough(ThreadMode::kPassthrough);
  t_unwinder_ready = true;
  return g_backtrace(frames, max);
}

bool inside_agent(uint64_t pc) {
  return pc >= g_self_begin && pc < g_self_end;
}

}  // namespace

int on_pipe2(int pair[2], int flags) {
  // Before resolution (a constructor that runs before ours), straight to the kernel.
  int rc = real_functions_ready() ? g_real.pipe2(pair, flags)
                                  : static_cast<int>(syscall(SYS_pipe2, pair, flags));
  if (rc != 0 || !t_in_unwinder) return rc;
  pair[0] = fds::move_above_floor(pair[0]);
  pair[1] = fds::move_above_floor(pair[1]);
  return 0;  // libunwind ignores failure; a -1 end makes it retry on the next check
}

void init_stack_capture() {
  load_unwinder();
  dl_iterate_phdr(find_self, reinterpret_cast<void*>(&init_stack_capture));
}

void capture_stack(CapturedStack& out) {
  out.hash = 0;
  out.depth = 0;
  if (!g_config.stacks || g_backtrace == nullptr) return;
  void* raw[kMaxStackDepth + 8];
  int max = static_cast<int>(std::min<uint32_t>(g_config.stack_depth, kMaxStackDepth)) + 8;
  int n = backtrace_here(raw, max);
  int first = 0;
  while (first < n && inside_agent(reinterpret_cast<uint64_t>(raw[first]))) ++first;
  uint32_t depth = 0;
  for (int i = first; i < n && depth < g_config.stack_depth; ++i)
    out.frames[depth++] = reinterpret_cast<uint64_t>(raw[i]);
  out.depth = depth;
  if (depth == 0) return;
  out.hash = XXH3_64bits(out.frames, depth * sizeof(uint64_t));
  if (out.hash == 0) out.hash = 1;  // 0 means "no stack"
}

}  // namespace memscope::agent

namespace memscope::agent {

// x86-64 glibc's __restore_rt, where a signal handler returns to: mov $15,%rax; syscall.
bool inside_signal_handler() {
  stack_t alternate;
  if (sigaltstack(nullptr, &alternate) == 0 && (alternate.ss_flags & SS_ONSTACK)) return true;
  if (g_backtrace == nullptr) return false;
  static constexpr unsigned char kSigreturn[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00,
                                                 0x00, 0x00, 0x0f, 0x05};
  void* raw[kMaxStackDepth];
  int n = backtrace_here(raw, kMaxStackDepth);
  for (int i = 0; i < n; ++i)
    if (std::memcmp(raw[i], kSigreturn, sizeof(kSigreturn)) == 0) return true;
  return false;
}

}  // namespace memscope::agent
