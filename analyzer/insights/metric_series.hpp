// The collector's samples of one process turned into named series (timestamp, value), one per
// metric the collector actually recorded, with min/mean/max. A metric missing from a sample is
// missing from its series; a metric never recorded has no series at all (absent, not zero).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analyzer/process_analysis.hpp"

namespace memscope::analyzer::insights {

struct MetricSeries {
  std::string name;         // "cpu.overall_usage_percent", "thread.1234.cpu_percent", ...
  std::string unit;         // "percent", "bytes", "bytes/s", "per_s", "MHz", "celsius", ...
  std::string thread_name;  // per-thread series only: the thread's name in that sample
  std::vector<uint64_t> timestamps_ns;  // CLOCK_MONOTONIC, end of each sample's interval
  std::vector<double> values;
};

struct SeriesSummary {
  double min = 0;
  double mean = 0;
  double max = 0;
  size_t samples = 0;
};

SeriesSummary summarize(const MetricSeries& s);

// memscope's own sidecar thread (the tid its trace records, ProcessAnalysis::sidecar_tid) is
// sampled with the process; it is left out of process totals and rankings.
bool is_profiler_thread(const ProcessAnalysis& p, const ThreadResourceMetrics& t);

// Sum of the application threads' CPU over one sample (100 = one core), or empty when the
// sample has no per-thread CPU figures.
std::optional<double> process_cpu_percent(const ProcessAnalysis& p, const PlatformMetrics& m);

// One sample's process storage IO (bytes/s) without memscope's own: the trace its sidecar thread
// writes. `read`/`write` are the process's rates minus the sidecar thread's change since `prev`
// (absent when the sidecar was sampled but `prev` does not have it); `profiler_*` that change.
struct IoSplit {
  std::optional<double> read, write, profiler_read, profiler_write;
};
IoSplit split_process_io(const ProcessAnalysis& p, const PlatformMetrics& m,
                         const PlatformMetrics* prev);

// Every series, in a stable order: machine CPU, memory, IO, cgroup, GPU, process, threads.
std::vector<MetricSeries> extract_series(const ProcessAnalysis& p);

}  // namespace memscope::analyzer::insights
