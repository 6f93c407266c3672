// See stack_capture.hpp.
#include "agent/stack_capture.hpp"

#include <link.h>
#include <signal.h>
#include <ucontext.h>
#include <unwind.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "agent/config.hpp"

namespace memscope::agent {
namespace {

// The unwinder is libgcc's, linked into the agent with -static-libgcc and hidden by
// --exclude-libs: nothing is loaded into the program's namespace, and it keeps no state of its
// own beyond a pthread_once (done in init_stack_capture). It finds each frame's unwind table
// with glibc's _dl_find_object (lock-free, allocation-free, async-signal-safe) and reads
// registers only from the stack it walks; it opens nothing. Its list of registered frame
// tables (__register_frame, JIT compilers) is its own, empty copy, so that path and its
// mutex are never taken.
bool g_ready = false;
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

bool inside_agent(uintptr_t pc) {
  return pc >= g_self_begin && pc < g_self_end;
}

// x86-64 glibc's __restore_rt, where a signal handler returns to: mov $15,%rax; syscall.
bool is_sigreturn(uintptr_t pc) {
  static constexpr unsigned char kSigreturn[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00,
                                                 0x00, 0x00, 0x0f, 0x05};
  return std::memcmp(reinterpret_cast<const void*>(pc), kSigreturn, sizeof(kSigreturn)) == 0;
}

struct Walk {
  uint64_t* frames;  // null: only looking for a signal frame
  uint32_t max;
  uint32_t depth = 0;
  bool skipping_agent = true;  // the agent's own frames come first and are left out
  bool signal_frame = false;
};

// The frame after the signal trampoline is the interrupted code, whose pc the kernel saved in
// the ucontext at the trampoline's stack pointer (the CFA libgcc reports with the trampoline's
// frame). libgcc looks that pc up and, where no module holds it (a call through a wild pointer
// raised the signal), reads the instruction bytes there to recognise a trampoline: a fault
// inside the program's handler. Such a pc ends the stack here instead, as its last frame.
bool interrupted_pc_outside_modules(uintptr_t trampoline_cfa, uintptr_t& pc) {
  const auto* uc = reinterpret_cast<const ucontext_t*>(trampoline_cfa);
  pc = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
  dl_find_object found;
  return _dl_find_object(reinterpret_cast<void*>(pc), &found) != 0;
}

void keep(Walk& walk, uintptr_t pc) {
  if (walk.frames != nullptr && walk.depth < walk.max) walk.frames[walk.depth] = pc;
  ++walk.depth;
}

_Unwind_Reason_Code on_frame(_Unwind_Context* context, void* data) {
  auto& walk = *static_cast<Walk*>(data);
  auto pc = static_cast<uintptr_t>(_Unwind_GetIP(context));
  if (pc == 0) return _URC_END_OF_STACK;
  if (walk.skipping_agent && inside_agent(pc)) return _URC_NO_REASON;
  walk.skipping_agent = false;
  keep(walk, pc);
  if (walk.depth >= walk.max) return _URC_END_OF_STACK;
  if (!is_sigreturn(pc)) return _URC_NO_REASON;
  walk.signal_frame = true;
  if (walk.frames == nullptr) return _URC_END_OF_STACK;
  uintptr_t interrupted = 0;
  if (!interrupted_pc_outside_modules(_Unwind_GetCFA(context), interrupted)) return _URC_NO_REASON;
  keep(walk, interrupted);
  return _URC_END_OF_STACK;
}

void walk_stack(Walk& walk) {
  _Unwind_Backtrace(on_frame, &walk);
  walk.depth = std::min(walk.depth, walk.max);
}

}  // namespace

void init_stack_capture() {
  dl_iterate_phdr(find_self, reinterpret_cast<void*>(&init_stack_capture));
  // The unwinder's one-time set-up (a pthread_once) runs here, never in a signal handler.
  Walk warm_up{nullptr, 1};
  walk_stack(warm_up);
  g_ready = true;
}

void capture_stack(CapturedStack& out) {
  out.hash = 0;
  out.depth = 0;
  if (!g_config.stacks || !g_ready) return;
  Walk walk{out.frames, std::min<uint32_t>(g_config.stack_depth, kMaxStackDepth)};
  walk_stack(walk);
  out.depth = walk.depth;
  if (out.depth == 0) return;
  out.hash = XXH3_64bits(out.frames, out.depth * sizeof(uint64_t));
  if (out.hash == 0) out.hash = 1;  // 0 means "no stack"
}

bool inside_signal_handler() {
  stack_t alternate;
  if (sigaltstack(nullptr, &alternate) == 0 && (alternate.ss_flags & SS_ONSTACK)) return true;
  if (!g_ready) return false;
  Walk walk{nullptr, kMaxStackDepth};
  walk_stack(walk);
  return walk.signal_frame;
}

}  // namespace memscope::agent
