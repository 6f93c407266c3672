// The measured quantities the bottleneck rules, scores and recommendations are decided from,
// computed once per process from its metric samples and heap timeline. Each figure the trace
// could not give is an empty optional. docs/analysis.md defines every field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analyzer/insights/aligned.hpp"
#include "analyzer/process_analysis.hpp"

namespace memscope::analyzer::insights {

// One application thread between its first and last sample (threads seen once are skipped).
struct ThreadFigures {
  int32_t tid = 0;
  std::string name;
  double span_s = 0;  // time between its first and last sample
  double cpu_s = 0;   // on-CPU time in that span (schedstat, else user + kernel ticks)
  std::optional<double> run_queue_wait_s;  // runnable but waiting for a CPU (schedstat)
  double off_cpu_s = 0;                    // span - cpu - wait: sleeping or blocked
  std::optional<double> voluntary_switches_per_sec;
  std::optional<double> involuntary_switches_per_sec;
  uint64_t allocations = 0;  // over the thread's whole life (heap model)
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
  std::optional<double> iowait_percent;                     // machine, mean
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
  std::vector<ThreadFigures> threads;
};

ProcessFigures compute_figures(const ProcessAnalysis& p, const std::vector<AlignedSample>& a);

}  // namespace memscope::analyzer::insights
