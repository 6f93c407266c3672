// The measured quantities the bottleneck rules, scores and recommendations are decided from,
// computed once per process from its metric samples and heap timeline. Each figure the trace
// could not give is an empty optional. docs/analysis.md defines every field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analyzer/insights/aligned.hpp"
#include "analyzer/insights/hardware_figures.hpp"
#include "analyzer/process_analysis.hpp"

namespace memscope::analyzer::insights {

// One application thread. Exact when the thread's own readings at its start and end are in the
// trace (kThreadCpu): then span, CPU, user/system time, switches and faults are those of its
// whole life. Otherwise from its first to its last sample (threads seen once are skipped).
struct ThreadFigures {
  int32_t tid = 0;
  std::string name;
  bool exact = false;
  double span_s = 0;  // its life (exact), else the time between its first and last sample
  double cpu_s = 0;   // on-CPU time in that span (exact clock, schedstat, else ticks)
  std::optional<double> user_s;  // user and system (kernel) CPU time in the span
  std::optional<double> system_s;
  std::optional<double> run_queue_wait_s;  // runnable but waiting for a CPU (schedstat, sampled)
  double profiler_wait_s = 0;              // waiting on memscope (ring full, fork gate, flushes)
  double off_cpu_s = 0;                    // span - cpu - wait - profiler wait: sleeping or blocked
  std::optional<double> voluntary_switches_per_sec;
  std::optional<double> involuntary_switches_per_sec;
  std::optional<double> minor_faults;  // in the span
  std::optional<double> major_faults;
  uint64_t allocations = 0;                 // over the thread's whole life (heap model)
  std::optional<HardwareFigures> hardware;  // when the thread had counters of its own
};

struct ProcessFigures {
  size_t samples = 0;
  double window_s = 0;  // sum of the aligned samples' intervals
  std::optional<double> online_cores;
  std::optional<double> cpu_quota_cores;
  std::optional<double> usable_cores;       // min(online cores, cgroup quota)
  std::optional<double> process_cpu_cores;  // mean application CPU, 1 = one core
  std::optional<double> cpu_utilization;    // process_cpu_cores / usable_cores
  std::optional<double> machine_cpu_percent;
  // Shares of the application threads' summed lifetime (Σ span), 0..1.
  std::optional<double> on_cpu_share;
  std::optional<double> run_queue_wait_share;
  std::optional<double> off_cpu_share;
  // Of the time threads were not waiting for a CPU, the share they ran: Σ cpu / (Σ cpu + Σ off).
  // Unlike on_cpu_share it does not fall when other programs crowd the machine.
  std::optional<double> cpu_busy_share;
  std::optional<double> voluntary_switches_per_thread_sec;  // Σ voluntary / Σ span
  // The same two, each thread weighted by its CPU time, so that threads which did (almost) no
  // work, idle pool threads sleeping for work, count for (almost) nothing. The rules use these.
  std::optional<double> active_busy_share;
  std::optional<double> active_voluntary_switches_per_sec;
  size_t active_threads = 0;  // threads with at least kActiveCpuRatio of the busiest one's CPU
  // memscope's own cost: its waits as a share of Σ span (left out of off-CPU time above), and its
  // sidecar thread's CPU in cores and as a share of the usable cores.
  std::optional<double> profiler_wait_share;
  std::optional<double> profiler_cpu_cores;
  std::optional<double> profiler_cpu_share_of_usable_cores;
  // User and system time of the application threads (Σ), the system share of their CPU, and
  // their minor page faults per CPU second: a thread that keeps touching fresh memory spends
  // its time in the kernel's fault path.
  std::optional<double> user_cpu_seconds;
  std::optional<double> system_cpu_seconds;
  std::optional<double> system_cpu_share;
  std::optional<double> minor_faults_per_cpu_second;
  std::optional<double> iowait_percent;  // machine, mean
  std::optional<double> psi_cpu_some_percent;
  std::optional<double> psi_memory_some_percent;
  std::optional<double> psi_io_some_percent;
  std::optional<double> psi_io_full_percent;
  std::optional<double> cgroup_throttled_percent;
  // The application's storage read + write: the process's /proc/<pid>/io minus what memscope's
  // own thread (writing the trace) did.
  std::optional<double> process_io_bytes_per_sec;
  std::optional<double> profiler_io_bytes_per_sec;  // memscope's thread, left out above
  std::optional<double> major_faults_per_sec;
  std::optional<double> minor_faults_per_sec;
  std::optional<double> gpu_percent;
  double heap_ops_per_sec = 0;  // allocations + frees within the sampled window
  std::optional<double> heap_ops_per_cpu_second;
  std::optional<double> rss_bytes_max;
  std::optional<double> memory_limit_bytes;  // cgroup memory limit, when one is set
  HardwareFigures hardware;                  // the process's counters (or why there are none)
  std::vector<ThreadFigures> threads;
};

// A thread counts as active (for the weighted shares' thread count) with at least this share of
// the busiest thread's CPU time.
inline constexpr double kActiveCpuRatio = 0.1;

ProcessFigures compute_figures(const ProcessAnalysis& p, const std::vector<AlignedSample>& a);

}  // namespace memscope::analyzer::insights
