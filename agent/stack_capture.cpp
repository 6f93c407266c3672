// See stack_capture.hpp.
#include "agent/stack_capture.hpp"

#include <link.h>
#include <signal.h>
#include <unwind.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
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

// x86-64 glibc's __restore_rt, where a signal handler returns to: mov $15,%rax; syscall.
bool is_sigreturn(uintptr_t pc) {
  static constexpr unsigned char kSigreturn[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00,
                                                 0x00, 0x00, 0x0f, 0x05};
  return std::memcmp(reinterpret_cast<const void*>(pc), kSigreturn, sizeof(kSigreturn)) == 0;
}

// One word a fast walk read from the stack (a return address or a saved rbp), and where.
struct Load {
  uintptr_t at;
  uintptr_t value;
};

struct Walk {
  uint64_t* frames;  // null: only looking for a signal frame
  uint32_t max;
  uint32_t depth = 0;
  bool skipping_agent = true;  // the agent's own frames come first and are left out
  bool signal_frame = false;
  // Where a fast walk notes the words it reads, to be remembered (null: not noted).
  Load* loads = nullptr;
  uint32_t load_room = 0;
  uint32_t load_count = 0;
  bool repeatable = true;  // false: a walk that must not be remembered (see remember)
  // The saved rbp read last, noted only once a rule computes a CFA from it: code built without
  // frame pointers keeps any value in rbp, which must not make a walk unrepeatable.
  bool rbp_pending = false;
  Load rbp_load{};
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

void note_load(Walk& walk, const Load& load) {
  if (walk.loads == nullptr) return;
  if (walk.load_count == walk.load_room) {
    walk.repeatable = false;
    return;
  }
  walk.loads[walk.load_count++] = load;
}

Load read_word(uintptr_t at) {
  return {at, *reinterpret_cast<const uintptr_t*>(at)};
}

// caller_of for a kNormal rule, noting the words it reads that the walk depends on. A saved rbp
// noted late still follows every word its address was computed from.
Registers normal_caller(Walk& walk, const Registers& r, const FrameRule& rule) {
  if (rule.cfa_from_rbp && walk.rbp_pending) {
    note_load(walk, walk.rbp_load);
    walk.rbp_pending = false;
  }
  uintptr_t cfa = (rule.cfa_from_rbp ? r.rbp : r.rsp) + rule.cfa_offset;
  note_load(walk, read_word(cfa - 8));
  if (rule.rbp_slot) {
    walk.rbp_load = read_word(cfa - 8 * rule.rbp_slot);
    walk.rbp_pending = true;
  }
  return caller_of(r, rule);
}

// Steps from `r` (the registers in capture's first frame) frame by frame with the cached rules.
// False where a frame needs libgcc's full interpreter.
bool fast_walk(Walk& walk, Registers r) {
  constexpr unsigned kMaxSteps = kMaxStackDepth + 64;  // the agent's frames, and a cyclic stack
  for (unsigned step = 0; step < kMaxSteps && r.pc != 0; ++step) {
    if (!take(walk, r.pc)) return true;
    FrameRule rule = frame_rule(r);
    if (rule.kind == FrameKind::kSlow) return false;
    if (rule.kind == FrameKind::kNoFde) walk.repeatable = false;  // a module may come there
    if (rule.kind == FrameKind::kEnd || rule.kind == FrameKind::kNoFde) return true;
    if (rule.kind == FrameKind::kSignal) {
      walk.repeatable = false;  // the ucontext is not remembered
      r = caller_of(r, rule);
    } else {
      r = normal_caller(walk, r, rule);
    }
  }
  return true;
}

// Each thread remembers its latest few fast walks: the registers they started from, every word
// they read from the stack, and what they found. The walk is a function of those registers, of
// those words (each word's address follows from the registers and the words read before it) and
// of the frame rules (a saved rbp counts only where a rule takes a CFA from it), so when the
// registers are the same and every word still holds its value,
// a new walk would find the very same frames: checking the words replaces the rule lookups. That
// holds however the stack changed in between (an exception unwinding through the frames, a
// longjmp), since what is checked is the stack as it is now. A signal handler that captures a
// stack while its thread is inside capture_stack walks without the memory.
constexpr uint32_t kRememberedFrames = 64;
constexpr uint32_t kRememberedLoads = 96;
constexpr uint32_t kRememberedWalks = 2;

struct RememberedWalk {
  uint32_t generation = 0;  // frame_rules_generation() + 1 when walked; 0: empty
  uint32_t max = 0;         // the depth it was walked to
  Registers start{};
  uint32_t depth = 0;
  uint32_t load_count = 0;
  uint64_t hash = 0;
  uint64_t frames[kRememberedFrames]{};
  Load loads[kRememberedLoads]{};
};

struct WalkMemory {
  RememberedWalk walks[kRememberedWalks];
  uint32_t next = 0;  // the entry the next new walk replaces
  bool busy = false;
};

thread_local constinit WalkMemory t_memory __attribute__((tls_model("initial-exec")));

bool same_registers(const Registers& a, const Registers& b) {
  return a.pc == b.pc && a.rsp == b.rsp && a.rbp == b.rbp && a.signal_frame == b.signal_frame;
}

bool still_holds(const RememberedWalk& w) {
  for (uint32_t i = 0; i < w.load_count; ++i)
    if (*reinterpret_cast<const uintptr_t*>(w.loads[i].at) != w.loads[i].value) return false;
  return true;
}

const RememberedWalk* recall(const Registers& start, uint32_t max) {
  uint32_t generation = frame_rules_generation() + 1;
  for (const RememberedWalk& w : t_memory.walks)
    if (w.generation == generation && w.max == max && same_registers(w.start, start) &&
        still_holds(w))
      return &w;
  return nullptr;
}

void remember(const Registers& start, const Walk& walk, uint64_t hash, RememberedWalk& into) {
  into.generation = 0;
  if (!walk.repeatable || walk.depth > kRememberedFrames) return;
  into.max = walk.max;
  into.start = start;
  into.depth = walk.depth;
  into.load_count = walk.load_count;
  into.hash = hash;
  std::memcpy(into.frames, walk.frames, walk.depth * sizeof(uint64_t));
  into.generation = frame_rules_generation() + 1;
}

uint64_t hash_frames(const uint64_t* frames, uint32_t depth) {
  uint64_t hash = XXH3_64bits(frames, depth * sizeof(uint64_t));
  return hash == 0 ? 1 : hash;  // 0 means "no stack"
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

// The fast walk starts in its caller (the agent is built with frame pointers: the caller's rbp
// and return address sit at our frame address), or, where a frame needs more than the cached
// rules, libgcc walks the whole stack. Returns the hash of the frames found (0 for none).
[[gnu::noinline]] uint64_t walk_stack_fast(Walk& walk) {
  const auto* fp = static_cast<const uintptr_t*>(__builtin_frame_address(0));
  const Registers start{fp[1], reinterpret_cast<uintptr_t>(fp + 2), fp[0], false};
  WalkMemory& memory = t_memory;
  bool nested = memory.busy;
  memory.busy = true;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  uint64_t hash = 0;
  const RememberedWalk* known = nested ? nullptr : recall(start, walk.max);
  if (known != nullptr) {
    std::memcpy(walk.frames, known->frames, known->depth * sizeof(uint64_t));
    walk.depth = known->depth;
    hash = known->hash;
  } else {
    RememberedWalk& slot = memory.walks[memory.next];
    if (!nested) {
      slot.generation = 0;  // its loads are overwritten now
      walk.loads = slot.loads;
      walk.load_room = kRememberedLoads;
    }
    bool fast = fast_walk(walk, start);
    if (!fast) {
      walk.depth = 0;
      walk.skipping_agent = true;
      walk_stack(walk);
    }
    if (walk.depth != 0) hash = hash_frames(walk.frames, walk.depth);
    if (fast && !nested && walk.depth != 0) {
      remember(start, walk, hash, slot);
      memory.next = (memory.next + 1) % kRememberedWalks;
    }
  }
  std::atomic_signal_fence(std::memory_order_seq_cst);
  memory.busy = nested;
  return hash;
}

}  // namespace

bool inside_agent(uintptr_t pc) {
  return pc >= g_self_begin && pc < g_self_end;
}

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
  out.hash = walk_stack_fast(walk);
  out.depth = walk.depth;
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
