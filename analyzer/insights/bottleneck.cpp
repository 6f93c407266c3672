// See bottleneck.hpp. Rules are tried in a fixed order and the first whose conditions all hold
// wins: the more specific explanation first, because a program waiting on IO or a lock also
// shows off-CPU time, and one living in the allocator also burns CPU.
#include "analyzer/insights/bottleneck.hpp"

#include <algorithm>
#include <functional>

namespace memscope::analyzer::insights {
namespace {

namespace th = threshold;

Evidence check(const std::string& name, double value, double limit) {
  return {name, value, limit, value >= limit};
}

// A rule: all of `all` must be met, and at least one of `any` when it is not empty. Figures the
// trace lacks are simply not checked, so a rule whose figures are all absent cannot fire.
struct Rule {
  const char* verdict;
  std::vector<Evidence> all;
  std::vector<Evidence> any;
  bool fires() const {
    if (all.empty() && any.empty()) return false;
    bool ok = std::all_of(all.begin(), all.end(), [](const Evidence& e) { return e.met; });
    return ok && (any.empty() ||
                  std::any_of(any.begin(), any.end(), [](const Evidence& e) { return e.met; }));
  }
};

void maybe(std::vector<Evidence>& to, const char* name, const std::optional<double>& v, double t) {
  if (v) to.push_back(check(name, *v, t));
}

Rule gpu_rule(const ProcessFigures& f) {
  Rule r{"GpuBound", {}, {}};
  maybe(r.all, "gpu_compute_percent", f.gpu_percent, th::kGpuPercent);
  return r;
}

Rule io_rule(const ProcessFigures& f) {
  Rule r{"IoBound", {}, {}};
  if (!f.process_io_bytes_per_sec || !f.active_busy_share) return r;
  r.all.push_back(
      check("process_io_bytes_per_sec", *f.process_io_bytes_per_sec, th::kIoBytesPerSec));
  r.all.push_back(check("blocked_share", 1.0 - *f.active_busy_share, th::kBlockedShare));
  maybe(r.any, "psi_io_some_percent", f.psi_io_some_percent, th::kIoStallPercent);
  maybe(r.any, "iowait_percent", f.iowait_percent, th::kIoStallPercent);
  if (r.any.empty()) r.all.clear();  // no stall figure at all: IO cannot be shown to limit
  return r;
}

// Threads that did work and keep blocking. Weighted by CPU time, so that a pool of idle threads
// sleeping for work (off-CPU nearly all the time, hardly any CPU) neither makes a busy program
// look blocked nor counts as threads contending.
Rule contention_rule(const ProcessFigures& f) {
  Rule r{"ContentionBound", {}, {}};
  if (!f.active_busy_share || !f.active_voluntary_switches_per_sec) return r;
  r.all.push_back(check("active_threads", static_cast<double>(f.active_threads), 2));
  r.all.push_back(check("blocked_share", 1.0 - *f.active_busy_share, th::kBlockedShare));
  r.all.push_back(check("active_voluntary_switches_per_sec", *f.active_voluntary_switches_per_sec,
                        th::kContentionSwitchesPerThreadSec));
  return r;
}

// A lock convoy: more threads than the lock lets run, handing it over thousands of times a second
// per thread. Each handoff wakes a waiter that then queues for a CPU behind the others, so the
// threads spend their time runnable rather than blocked and blocked_share misses it; a CPU-bound
// pool is preempted (involuntary switches), not switching voluntarily.
Rule convoy_rule(const ProcessFigures& f) {
  Rule r{"ContentionBound", {}, {}};
  if (!f.on_cpu_share || !f.active_voluntary_switches_per_sec) return r;
  r.all.push_back(check("active_threads", static_cast<double>(f.active_threads), 2));
  r.all.push_back(check("active_voluntary_switches_per_sec", *f.active_voluntary_switches_per_sec,
                        th::kConvoySwitchesPerThreadSec));
  r.all.push_back(check("waiting_share", 1.0 - *f.on_cpu_share, th::kConvoyWaitingShare));
  return r;
}

// In the allocator: many heap operations per CPU second, and many per second at all.
Rule allocator_rule(const ProcessFigures& f) {
  Rule r{"MemoryBound", {}, {}};
  if (!f.heap_ops_per_cpu_second) return r;
  r.all.push_back(
      check("heap_ops_per_cpu_second", *f.heap_ops_per_cpu_second, th::kHeapOpsPerCpuSecond));
  r.all.push_back(check("heap_ops_per_sec", f.heap_ops_per_sec, th::kHeapOpsPerSec));
  return r;
}

Rule memory_rule(const ProcessFigures& f) {
  Rule r{"MemoryBound", {}, {}};
  maybe(r.any, "major_faults_per_sec", f.major_faults_per_sec, th::kMajorFaultsPerSec);
  maybe(r.any, "psi_memory_some_percent", f.psi_memory_some_percent, th::kPsiMemoryPercent);
  return r;
}

// Memory-bound in the kernel: many minor faults per CPU second and most of the CPU in system
// time (the fault path zeroes and maps each fresh page).
Rule page_fault_rule(const ProcessFigures& f) {
  Rule r{"MemoryBound", {}, {}};
  if (!f.minor_faults_per_cpu_second || !f.system_cpu_share) return r;
  r.all.push_back(check("minor_faults_per_cpu_second", *f.minor_faults_per_cpu_second,
                        th::kMinorFaultsPerCpuSecond));
  r.all.push_back(check("system_cpu_share", *f.system_cpu_share, th::kSystemCpuShare));
  return r;
}

// Busy on the CPU, but the CPU waits on memory: few instructions per cycle and many of them
// missing the last-level cache. Without hardware counters this rule has no figures and cannot
// fire. Busy as the CPU rule means it, so that an idle program's short, cold-cache bursts do not
// make it memory-bound.
Rule cache_miss_rule(const ProcessFigures& f) {
  Rule r{"MemoryBound", {}, {}};
  const HardwareFigures& hw = f.hardware;
  if (!hw.cycles_per_instruction || !hw.llc_misses_per_kilo_instruction) return r;
  r.all.push_back(
      check("cycles_per_instruction", *hw.cycles_per_instruction, th::kCyclesPerInstruction));
  r.all.push_back(check("llc_misses_per_kilo_instruction", *hw.llc_misses_per_kilo_instruction,
                        th::kLlcMissesPerKiloInstruction));
  maybe(r.any, "active_busy_share", f.active_busy_share, th::kCpuBusyShare);
  maybe(r.any, "cpu_utilization_of_usable_cores", f.cpu_utilization, th::kCpuUtilization);
  if (r.any.empty()) r.all.clear();
  return r;
}

Rule cpu_rule(const ProcessFigures& f) {
  Rule r{"CpuBound", {}, {}};
  maybe(r.any, "active_busy_share", f.active_busy_share, th::kCpuBusyShare);
  maybe(r.any, "cpu_utilization_of_usable_cores", f.cpu_utilization, th::kCpuUtilization);
  maybe(r.any, "cgroup_throttled_percent", f.cgroup_throttled_percent, th::kThrottledPercent);
  return r;
}

std::vector<Evidence> fired_evidence(const Rule& r) {
  std::vector<Evidence> e = r.all;
  for (const Evidence& x : r.any)
    if (x.met) e.push_back(x);
  return e;
}

// memscope's waits are already out of every figure above; what remains is that the program
// ran under memscope at all: its waits slowed it, and the sidecar's CPU competed with it.
void add_caveats(const ProcessFigures& f, Verdict& v) {
  auto caveat = [&](const char* name, const std::optional<double>& value, double limit) {
    if (value && *value >= limit) v.evidence.push_back({name, *value, limit, true, true});
  };
  caveat("profiler_wait_share", f.profiler_wait_share, th::kProfilerWaitShare);
  caveat("profiler_cpu_share_of_usable_cores", f.profiler_cpu_share_of_usable_cores,
         th::kProfilerCpuShare);
}

}  // namespace

Verdict decide_bottleneck(const ProcessFigures& f) {
  std::vector<Rule> rules = {gpu_rule(f),        io_rule(f),         contention_rule(f),
                             convoy_rule(f),     allocator_rule(f),  memory_rule(f),
                             page_fault_rule(f), cache_miss_rule(f), cpu_rule(f)};
  Verdict v;
  for (const Rule& r : rules)
    if (r.fires()) {
      v = {r.verdict, fired_evidence(r)};
      break;
    }
  if (v.bottleneck.empty()) {
    // Balanced: no rule fired; the evidence is every figure that was checked, none decisive.
    // With nothing checked at all there is no verdict: "Balanced" would be invented.
    v.bottleneck = "Balanced";
    for (const Rule& r : rules) {
      v.evidence.insert(v.evidence.end(), r.all.begin(), r.all.end());
      v.evidence.insert(v.evidence.end(), r.any.begin(), r.any.end());
    }
    if (v.evidence.empty()) return {};
  }
  add_caveats(f, v);
  return v;
}

Scores efficiency_scores(const ProcessFigures& f) {
  Scores s;
  if (f.on_cpu_share) s.cpu = 100.0 * std::clamp(*f.on_cpu_share, 0.0, 1.0);
  if (f.heap_ops_per_cpu_second) {
    // Halves at the MemoryBound threshold; memory pressure stalls take their share off.
    double churn = 1.0 / (1.0 + *f.heap_ops_per_cpu_second / th::kHeapOpsPerCpuSecond);
    double stall = 1.0 - std::clamp(f.psi_memory_some_percent.value_or(0) / 100.0, 0.0, 1.0);
    s.memory = 100.0 * churn * stall;
  }
  if (f.process_io_bytes_per_sec) {
    // A process that did no storage IO had nothing to wait on; otherwise the IO stall share.
    std::optional<double> stall = f.psi_io_some_percent ? f.psi_io_some_percent : f.iowait_percent;
    if (*f.process_io_bytes_per_sec < 1.0)
      s.io = 100.0;
    else if (stall)
      s.io = 100.0 - std::clamp(*stall, 0.0, 100.0);
  }
  return s;
}

std::vector<RankedThread> rank_threads(const ProcessFigures& f) {
  std::vector<RankedThread> out;
  for (const ThreadFigures& t : f.threads)
    if (t.span_s > 0) out.push_back({&t, 100.0 * std::clamp(t.cpu_s / t.span_s, 0.0, 1.0)});
  std::stable_sort(out.begin(), out.end(), [](const RankedThread& a, const RankedThread& b) {
    return a.efficiency_score > b.efficiency_score;
  });
  return out;
}

}  // namespace memscope::analyzer::insights
