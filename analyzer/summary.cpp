// See summary.hpp.
#include "analyzer/summary.hpp"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <utility>

#include "analyzer/leak_kinds.hpp"
#include "format/trace_format.hpp"

namespace memscope::analyzer {

Summary summarize(const ProcessAnalysis& p) {
  const HeapTotals& t = p.heap().totals();
  Summary s;
  s.total_allocations = t.allocations;
  s.total_frees = t.frees;
  s.total_allocated_bytes = t.allocated_bytes;
  s.peak_heap_bytes = t.peak_bytes;
  s.leaked_allocations = t.live_allocations;
  s.leaked_bytes = t.live_bytes;
  s.threads = p.threads().size();
  s.dropped_events = p.dropped_events();
  s.unmatched_frees = t.unmatched_frees;
  s.leak_kinds = process_leak_kinds(p);
  if (ended_by_exec(p)) {  // nothing leaked
    s.discarded_by_exec_allocations = std::exchange(s.leaked_allocations, 0);
    s.discarded_by_exec_bytes = std::exchange(s.leaked_bytes, 0);
  }
  return s;
}

Summary summarize(const ProcessHeapView& v) {
  Summary s = summarize(*v.process->analysis);
  if (ended_by_exec(*v.process->analysis)) return s;  // nothing leaked, nothing to suppress
  s.leaked_allocations -= std::min(s.leaked_allocations, v.leaks.suppressed.blocks);
  s.leaked_bytes -= std::min(s.leaked_bytes, v.leaks.suppressed.bytes);
  s.leak_kinds = v.leaks.kinds;
  s.suppressed = v.leaks.suppressed;
  return s;
}

Summary summarize(const Session& session, const HeapReport& heap) {
  Summary total;
  total.leak_kinds.emplace();
  for (size_t i = 0; i < session.processes.size(); ++i) {
    const ProcessAnalysis& p = *session.processes[i]->analysis;
    Summary s = summarize(heap.processes[i]);
    total.total_allocations += s.total_allocations;
    total.total_frees += s.total_frees;
    total.total_allocated_bytes += s.total_allocated_bytes;
    total.peak_heap_bytes = std::max(total.peak_heap_bytes, s.peak_heap_bytes);
    total.leaked_allocations += s.leaked_allocations;
    total.leaked_bytes += s.leaked_bytes;
    total.discarded_by_exec_allocations += s.discarded_by_exec_allocations;
    total.discarded_by_exec_bytes += s.discarded_by_exec_bytes;
    total.threads += s.threads;
    total.dropped_events += s.dropped_events;
    total.unmatched_frees += s.unmatched_frees;
    total.suppressed.blocks += s.suppressed.blocks;
    total.suppressed.bytes += s.suppressed.bytes;
    // An image replaced by exec took its memory with it: it has no kinds, and needs none.
    if (ended_by_exec(p)) continue;
    if (!s.leak_kinds) total.leak_kinds.reset();
    if (!total.leak_kinds) continue;
    for (size_t k = 0; k < format::kLeakKinds; ++k) {
      (*total.leak_kinds)[k].blocks += (*s.leak_kinds)[k].blocks;
      (*total.leak_kinds)[k].bytes += (*s.leak_kinds)[k].bytes;
    }
  }
  return total;
}

namespace {

// " (SIGHUP)", " (SIGRTMIN+2)", or nothing for a number that names no signal.
std::string signal_name(int64_t sig) {
  if (sig <= 0 || sig > SIGRTMAX) return {};
  if (const char* name = sigabbrev_np(static_cast<int>(sig)))
    return std::string(" (SIG") + name + ")";
  if (sig < SIGRTMIN) return {};
  return sig == SIGRTMIN ? " (SIGRTMIN)" : " (SIGRTMIN+" + std::to_string(sig - SIGRTMIN) + ")";
}

}  // namespace

std::string describe_end(const ProcessAnalysis& p) {
  const ProcessEnd* end = p.end();
  if (end == nullptr) return "no end recorded (killed, or still running)";
  switch (static_cast<format::EndReason>(end->reason)) {
    case format::EndReason::kExit:
      return "exit";
    case format::EndReason::kUnderscoreExit:
      return "_exit(" + std::to_string(end->detail) + ")";
    case format::EndReason::kSignal:
      return "signal " + std::to_string(end->detail) + signal_name(end->detail);
    case format::EndReason::kExec:
      return "exec";
    case format::EndReason::kQuickExit:
      return "quick_exit(" + std::to_string(end->detail) + ")";
    case format::EndReason::kRegionEnded:
      return "profiling region ended";
    case format::EndReason::kLastThreadExit:
      return "last thread exited (" + std::to_string(end->detail) + ")";
    default:
      return "unknown";
  }
}

const char* thread_source_name(ThreadSource source) {
  switch (source) {
    case ThreadSource::kSamples:
      return "samples";
    case ThreadSource::kProcess:
      return "process";
    default:
      return "agent";
  }
}

}  // namespace memscope::analyzer
