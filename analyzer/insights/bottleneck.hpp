// The primary bottleneck, the efficiency scores and the thread ranking, decided from
// ProcessFigures by fixed, documented rules (docs/analysis.md "Bottleneck rules"). Every verdict
// carries the figures that decided it, each with its threshold.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analyzer/insights/figures.hpp"

namespace memscope::analyzer::insights {

// One figure checked by a rule: its value against the threshold it must reach (>=).
struct Evidence {
  std::string name;
  double value = 0;
  double threshold = 0;
  bool met = false;
  // A figure about memscope's own cost (not a condition of the rule): listed when it reached
  // its threshold, because the verdict may then describe memscope rather than the program.
  bool caveat = false;
};

struct Verdict {
  // CpuBound, MemoryBound, IoBound, GpuBound, ContentionBound, Balanced; empty when no figure
  // was measured at all (reported as null).
  std::string bottleneck;
  std::vector<Evidence> evidence;  // the rule that fired; for Balanced every check that failed
};

// Thresholds of the rules, in one place (the docs quote them).
namespace threshold {
inline constexpr double kGpuPercent = 70;
inline constexpr double kIoBytesPerSec = 1024.0 * 1024.0;
inline constexpr double kIoStallPercent = 2;  // PSI io some, or machine iowait
inline constexpr double kBlockedShare = 0.5;  // 1 - active_busy_share, for IO and contention
// Low on purpose: on a saturated machine a contended lock convoys (its holder is preempted)
// and waiters wake only ~30 times a second; an idle worker pool wakes far less often.
inline constexpr double kContentionSwitchesPerThreadSec = 10;
// A lock convoy on a machine with spare CPU: 16 threads on one mutex switch 2,000-3,000 times a
// second per thread-second and are off-CPU or queued 89 % of the time; the labelled programs
// that do not contend switch at most ~420 times (alloc_bound, one active thread) and the one
// with two busy threads, page_fault_bound, ~330 times while on a CPU 96 % of the time.
inline constexpr double kConvoySwitchesPerThreadSec = 1000;
inline constexpr double kConvoyWaitingShare = 0.5;  // 1 - on_cpu_share
inline constexpr double kHeapOpsPerCpuSecond = 2'000'000;
// ... and at least this many per second: a program that hardly runs (a driver waiting for its
// children) enters the allocator often per CPU second without the allocator limiting anything.
inline constexpr double kHeapOpsPerSec = 100'000;
// Page-fault bound: threads that keep touching fresh memory spend their CPU in the kernel's
// fault path (zeroing and mapping pages). Calibrated in docs/analysis.md.
inline constexpr double kMinorFaultsPerCpuSecond = 50'000;
inline constexpr double kSystemCpuShare = 0.5;
inline constexpr double kMajorFaultsPerSec = 50;
inline constexpr double kPsiMemoryPercent = 10;
// Memory-bound in the CPU's caches: at least one cycle per instruction (IPC <= 1) with at
// least 10 last-level cache misses per thousand instructions, while the program is busy on
// the CPU. Literature values, not calibrated on hardware here (docs/analysis.md).
inline constexpr double kCyclesPerInstruction = 1.0;
inline constexpr double kLlcMissesPerKiloInstruction = 10;
inline constexpr double kCpuBusyShare = 0.7;
inline constexpr double kCpuUtilization = 0.8;  // of usable cores
inline constexpr double kThrottledPercent = 10;
// memscope's own cost large enough to colour a verdict: its waits as a share of the threads'
// time, or its sidecar's CPU as a share of the usable cores.
inline constexpr double kProfilerWaitShare = 0.05;
inline constexpr double kProfilerCpuShare = 0.1;
}  // namespace threshold

Verdict decide_bottleneck(const ProcessFigures& f);

struct Scores {
  std::optional<double> cpu;
  std::optional<double> memory;
  std::optional<double> io;
};
Scores efficiency_scores(const ProcessFigures& f);

struct RankedThread {
  const ThreadFigures* figures;
  double efficiency_score;  // 100 x on-CPU share of the thread's sampled lifetime
};
std::vector<RankedThread> rank_threads(const ProcessFigures& f);

}  // namespace memscope::analyzer::insights
