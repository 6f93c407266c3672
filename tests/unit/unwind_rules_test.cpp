// Unit tests of the agent's per-address frame rules (agent/unwind_rules.cpp): a stack walked
// with them holds the same return addresses as libgcc's _Unwind_Backtrace (the oracle), also
// from a signal handler through the kernel's signal frame, and again once the rules are cached
// or forgotten.
#include <doctest/doctest.h>
#include <signal.h>
#include <unwind.h>

#include <cstdint>
#include <cstring>

#include "agent/unwind_rules.hpp"

namespace a = memscope::agent;

namespace {

constexpr int kMax = 64;

struct Trace {
  uintptr_t pcs[kMax];
  int n = 0;
  bool slow_rule = false;
  bool signal_frame = false;
};

_Unwind_Reason_Code collect(_Unwind_Context* context, void* data) {
  auto& trace = *static_cast<Trace*>(data);
  auto pc = static_cast<uintptr_t>(_Unwind_GetIP(context));
  if (pc == 0 || trace.n == kMax) return _URC_END_OF_STACK;
  trace.pcs[trace.n++] = pc;
  return _URC_NO_REASON;
}

// Walks from here with the rules (starting at the exact pc of the asm statement, with the rsp
// and rbp it sees) and with libgcc, whose first frame is this function's own call site.
[[gnu::noinline]] void walk_both(Trace& fast, Trace& slow) {
  a::Registers r{};
  asm volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
               : "=r"(r.pc), "=r"(r.rsp), "=r"(r.rbp));
  r.signal_frame = true;  // an exact pc, not a return address
  while (fast.n < kMax) {
    a::FrameRule rule = a::frame_rule(r);
    if (rule.kind == a::FrameKind::kSlow) fast.slow_rule = true;
    if (rule.kind != a::FrameKind::kNormal && rule.kind != a::FrameKind::kSignal) break;
    if (rule.kind == a::FrameKind::kSignal) fast.signal_frame = true;
    r = a::caller_of(r, rule);
    if (r.pc == 0) break;
    fast.pcs[fast.n++] = r.pc;
  }
  _Unwind_Backtrace(collect, &slow);
  asm volatile("" ::: "memory");  // keeps the frame: no tail call
}

void check_same(const Trace& fast, const Trace& slow) {
  CHECK_FALSE(fast.slow_rule);
  REQUIRE(slow.n >= 2);
  CHECK(fast.n == slow.n - 1);
  for (int i = 0; i < fast.n && i + 1 < slow.n; ++i) CHECK(fast.pcs[i] == slow.pcs[i + 1]);
}

Trace g_fast_in_handler, g_slow_in_handler;

void on_usr1(int) {
  walk_both(g_fast_in_handler, g_slow_in_handler);
}

}  // namespace

TEST_CASE("frame rules walk the same stack as _Unwind_Backtrace") {
  for (int round = 0; round < 2; ++round) {  // the second walk finds every rule cached
    Trace fast, slow;
    walk_both(fast, slow);
    check_same(fast, slow);
  }
  a::forget_frame_rules();
  Trace fast, slow;
  walk_both(fast, slow);
  check_same(fast, slow);
}

TEST_CASE("frame rules walk through a signal frame as _Unwind_Backtrace does") {
  struct sigaction sa, old;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  REQUIRE(sigaction(SIGUSR1, &sa, &old) == 0);
  raise(SIGUSR1);
  sigaction(SIGUSR1, &old, nullptr);
  CHECK(g_fast_in_handler.signal_frame);
  check_same(g_fast_in_handler, g_slow_in_handler);
}
