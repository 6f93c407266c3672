// See leak_kinds.hpp.
#include "analyzer/leak_kinds.hpp"

#include <algorithm>

#include "format/trace_format.hpp"

namespace memscope::analyzer {

using format::EndReason;
using format::KindCounts;
using format::LeakScanStatus;

std::optional<KindCounts> process_leak_kinds(const ProcessAnalysis& p) {
  const format::LeakScanRecord* scan = p.leak_scan();
  if (scan == nullptr || scan->status != LeakScanStatus::kComplete) return std::nullopt;
  return scan->totals;
}

std::optional<KindCounts> site_leak_kinds(const ProcessAnalysis& p, uint64_t stack_id) {
  if (!process_leak_kinds(p)) return std::nullopt;
  const auto& sites = p.leak_scan()->sites;
  auto it =
      std::lower_bound(sites.begin(), sites.end(), stack_id,
                       [](const format::LeakSiteKinds& s, uint64_t id) { return s.stack_id < id; });
  if (it == sites.end() || it->stack_id != stack_id) return std::nullopt;
  return it->kinds;
}

std::optional<format::LeakKind> leading_kind(const KindCounts& kinds) {
  for (size_t k = 0; k < format::kLeakKinds; ++k)
    if (kinds[k].blocks > 0) return static_cast<format::LeakKind>(k);
  return std::nullopt;
}

bool ended_by_exec(const ProcessAnalysis& p) {
  return p.end() && p.end()->reason == static_cast<uint8_t>(EndReason::kExec);
}

std::string leak_check_status(const ProcessAnalysis& p) {
  const format::LeakScanRecord* scan = p.leak_scan();
  if (scan == nullptr) {
    const ProcessEnd* end = p.end();
    if (end == nullptr) return "not run: the trace has no end (killed, or still running)";
    switch (static_cast<EndReason>(end->reason)) {
      case EndReason::kSignal:
        return "not run: the process was killed by a signal";
      case EndReason::kExec:
        return "not run: the image was replaced by exec";
      case EndReason::kRegionEnded:
        return "not run: a profiling region, not the process's end";
      default:
        return p.info().parent_pid != 0 || p.inherited()
                   ? "not run: a fork child traced by an older memscope"
                   : "not run: the trace has no leak scan (written by an older memscope?)";
    }
  }
  switch (scan->status) {
    case LeakScanStatus::kComplete:
      return "complete";
    case LeakScanStatus::kOff:
      return "off (MEMSCOPE_LEAK_CHECK=none)";
    case LeakScanStatus::kNoLiveBlocks:
      return "not run: the agent kept no heap model (MEMSCOPE_HEAP_SUMMARY_MB=0, a model past its "
             "budget, or a fork child whose parent's sidecar was not parked at the fork)";
    case LeakScanStatus::kTimeLimit:
      return "stopped at its time limit";
    case LeakScanStatus::kUnreadable:
      return "not run: the process's memory could not be read (process_vm_readv refused)";
  }
  return "unknown";
}

std::string freeres_outcome(const format::FreeresOutcome outcome) {
  switch (outcome) {
    case format::FreeresOutcome::kRan:
      return "ran";
    case format::FreeresOutcome::kOff:
      return "off (MEMSCOPE_FREERES=0)";
    case format::FreeresOutcome::kOtherThreads:
      return "skipped: other threads were running";
    case format::FreeresOutcome::kSignalHandler:
      return "skipped: exit from a signal handler";
    case format::FreeresOutcome::kUnderscoreExit:
      return "skipped: _exit";
    case format::FreeresOutcome::kNotFound:
      return "not found";
  }
  return "unknown";
}

}  // namespace memscope::analyzer
