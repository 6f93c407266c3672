// See stack_capture.hpp.
#include "agent/stack_capture.hpp"

#include <link.h>
#include <signal.h>
#include <unwind.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "agent/config.hpp"
#include "agent/unwind_rules.hpp"

namespace memscope::agent {
namespace {

// Two walks of the same DWARF unwind tables. The fast one steps frame by frame with the cached
// per-address rules of unwind_rules.hpp (the common case of compiled code); where a frame's
// rules are beyond it, the stack is walked again by libgcc's _Unwind_Backtrace, linked into
// the agent with -static-libgcc and hidden by --exclude-libs. Neither loads anything into the
// program's namespace, takes a lock or opens a descriptor: both find a frame's table with
// glibc's _dl_find_object (lock-free, allocation-free, async-signal-safe) and read only the
// stack they walk. libgcc keeps no state beyond a pthread_once (run in init_stack_capture);
// its list of registered frame tables (__register_frame, JIT compilers) is its own, empty
// copy, so that path and its mutex are never taken.
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

// Records pc unless it is one of the agent's leading frames; false once the stack is full.
bool take(Walk& walk, uintptr_t pc) {
  if (walk.skipping_agent && inside_agent(pc)) return true;
  walk.skipping_agent = false;
  keep(walk, pc);
  return walk.depth < walk.max;
}

// Starts at its caller (the agent is built with frame pointers: the caller's rbp and return
// address sit at our frame address). False where a frame needs libgcc's full interpreter.
[[gnu::noinline]] bool fast_walk(Walk& walk) {
  constexpr unsigned kMaxSteps = kMaxStackDepth + 64;  // the agent's frames, and a cyclic stack
  const auto* fp = static_cast<const uintptr_t*>(__builtin_frame_address(0));
  Registers r{fp[1], reinterpret_cast<uintptr_t>(fp + 2), fp[0], false};
  for (unsigned step = 0; step < kMaxSteps && r.pc != 0; ++step) {
    if (!take(walk, r.pc)) return true;
    FrameRule rule = frame_rule(r);
    if (rule.kind == FrameKind::kSlow) return false;
    if (rule.kind == FrameKind::kEnd || rule.kind == FrameKind::kNoFde) return true;
    r = caller_of(r, rule);
  }
  return true;
}

_Unwind_Reason_Code on_frame(_Unwind_Context* context, void* data) {
  auto& walk = *static_cast<Walk*>(data);
  auto pc = static_cast<uintptr_t>(_Unwind_GetIP(context));
  if (pc == 0) return _URC_END_OF_STACK;
  if (!take(walk, pc)) return _URC_END_OF_STACK;
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

void walk_stack_fast(Walk& walk) {
  if (fast_walk(walk)) return;
  walk.depth = 0;
  walk.skipping_agent = true;
  walk_stack(walk);
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
  walk_stack_fast(walk);
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
