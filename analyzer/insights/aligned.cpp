// See aligned.hpp.
#include "analyzer/insights/aligned.hpp"

#include <algorithm>

#include "analyzer/insights/metric_series.hpp"

namespace memscope::analyzer::insights {
namespace {

std::optional<double> mean_gpu(const PlatformMetrics& m) {
  if (!m.gpu) return std::nullopt;
  double sum = 0;
  int n = 0;
  for (const GpuResourceMetrics& g : *m.gpu)
    if (g.compute_usage_percent) sum += *g.compute_usage_percent, ++n;
  return n ? std::optional<double>(sum / n) : std::nullopt;
}

// The program's storage IO, memscope's trace writing left out (split_process_io).
std::optional<double> io_rate(const ProcessAnalysis& p, const PlatformMetrics& m,
                              const PlatformMetrics* prev) {
  IoSplit io = split_process_io(p, m, prev);
  if (!io.read && !io.write) return std::nullopt;
  return io.read.value_or(0) + io.write.value_or(0);
}

std::optional<uint64_t> faults(const MemoryResourceMetrics& m) {
  if (!m.process_minor_faults && !m.process_major_faults) return std::nullopt;
  return m.process_minor_faults.value_or(0) + m.process_major_faults.value_or(0);
}

std::optional<double> fault_rate(const PlatformMetrics& m, const PlatformMetrics* prev) {
  if (!prev || m.timestamp_ns <= prev->timestamp_ns) return std::nullopt;
  auto now = faults(m.memory), before = faults(prev->memory);
  if (!now || !before) return std::nullopt;
  double d = *now >= *before ? static_cast<double>(*now - *before) : 0.0;
  return d * 1e9 / static_cast<double>(m.timestamp_ns - prev->timestamp_ns);
}

}  // namespace

HeapWindow heap_in_window(const std::vector<HeapBucket>& buckets, uint64_t bucket_ns,
                          uint64_t from_ns, uint64_t to_ns) {
  HeapWindow w;
  if (buckets.empty() || bucket_ns == 0 || to_ns < buckets.front().start_ns) return w;
  // Buckets are consecutive from the first one, so the window's buckets are found by division.
  uint64_t first = buckets.front().start_ns;
  size_t i = from_ns > first ? static_cast<size_t>((from_ns - first) / bucket_ns) : 0;
  for (; i < buckets.size() && buckets[i].start_ns < to_ns; ++i) {
    const HeapBucket& b = buckets[i];
    uint64_t lo = std::max(b.start_ns, from_ns), hi = std::min(b.start_ns + bucket_ns, to_ns);
    if (hi <= lo) continue;
    double share = static_cast<double>(hi - lo) / static_cast<double>(bucket_ns);
    w.allocations += share * static_cast<double>(b.allocations);
    w.frees += share * static_cast<double>(b.frees);
    w.allocated_bytes += share * static_cast<double>(b.allocated_bytes);
  }
  // The bucket holding the window's end gives the live heap then; past the last bucket nothing
  // changed, so its value carries forward.
  size_t at = std::min(static_cast<size_t>((to_ns - first) / bucket_ns), buckets.size() - 1);
  w.live_bytes = static_cast<double>(buckets[at].live_bytes_end);
  return w;
}

std::vector<AlignedSample> align(const ProcessAnalysis& p) {
  std::vector<AlignedSample> out;
  const PlatformMetrics* prev = nullptr;
  const HeapTimeline& tl = p.timeline();
  for (const PlatformMetrics& m : p.metric_samples()) {
    uint64_t interval = m.interval_ns.value_or(prev ? m.timestamp_ns - prev->timestamp_ns : 0);
    if (interval == 0 || interval > m.timestamp_ns) {
      prev = &m;
      continue;
    }
    HeapWindow w =
        heap_in_window(tl.buckets(), tl.bucket_ns(), m.timestamp_ns - interval, m.timestamp_ns);
    double seconds = static_cast<double>(interval) / 1e9;
    AlignedSample a;
    a.t_ns = m.timestamp_ns;
    a.interval_ns = interval;
    a.live_heap_bytes = w.live_bytes;
    a.allocations_per_sec = w.allocations / seconds;
    a.frees_per_sec = w.frees / seconds;
    a.process_cpu_percent = process_cpu_percent(p, m);
    a.gpu_percent = mean_gpu(m);
    a.process_io_bytes_per_sec = io_rate(p, m, prev);
    a.page_faults_per_sec = fault_rate(m, prev);
    if (m.cpu.psi_memory) a.psi_memory_some_percent = m.cpu.psi_memory->some_percent;
    out.push_back(a);
    prev = &m;
  }
  return out;
}

}  // namespace memscope::analyzer::insights
