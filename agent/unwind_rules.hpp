// How to step from one x86-64 frame to its caller, per code address: the DWARF call-frame rules
// of the common case (CFA = rsp or rbp + offset, return address at CFA-8, rbp saved at a slot
// below the CFA or unchanged), read once from the module's .eh_frame (found by libgcc's
// _Unwind_Find_FDE) and kept in a fixed lock-free table. Anything else is kSlow: the caller
// then unwinds the whole stack with libgcc's full interpreter.
#pragma once

#include <cstdint>

namespace memscope::agent {

enum class FrameKind : uint8_t {
  kNormal,  // caller's pc at CFA-8, its rsp = CFA, its rbp per rbp_slot
  kEnd,     // outermost frame (return address undefined): the stack ends here
  kSignal,  // the signal trampoline: the caller's registers are in the ucontext at rsp
  kNoFde,   // no module describes this address: the stack ends here
  kSlow,    // rules this table does not express
};

struct FrameRule {
  FrameKind kind = FrameKind::kSlow;
  bool cfa_from_rbp = false;
  uint32_t cfa_offset = 0;  // CFA = (cfa_from_rbp ? rbp : rsp) + cfa_offset
  uint32_t rbp_slot = 0;    // 0: rbp unchanged; else the caller's rbp is at CFA - 8 * rbp_slot
};

// The rule for the frame executing at `address` (a return address minus 1, or a signal frame's
// exact pc). Lock-free and allocation-free; safe in signal handlers.
FrameRule frame_rule(uintptr_t address);

struct Registers {
  uintptr_t pc, rsp, rbp;
  bool signal_frame;  // pc is where a signal interrupted, not a return address
};
// The rule for the frame `r` describes (its pc looked up as frame_rule wants it).
FrameRule frame_rule(const Registers& r);
// The caller's registers per `rule` (kNormal or kSignal), read from the stack `r` points into.
Registers caller_of(const Registers& r, const FrameRule& rule);
// Forgets every rule: after dlclose, another module may be mapped where one was.
void forget_frame_rules();
// Bumped by forget_frame_rules: a walk remembered under an older generation used rules that
// may no longer hold.
uint32_t frame_rules_generation();

}  // namespace memscope::agent
