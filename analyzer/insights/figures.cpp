// See figures.hpp. Means are weighted by each sample's interval, so an irregular sampling
// interval (the collector backs off under load) does not bias them.
#include "analyzer/insights/figures.hpp"

#include <algorithm>
#include <functional>
#include <map>

#include "analyzer/insights/metric_series.hpp"

namespace memscope::analyzer::insights {
namespace {

using Getter = std::function<std::optional<double>(const PlatformMetrics&)>;

// Interval-weighted mean of one figure over the samples that have it.
std::optional<double> weighted_mean(const std::vector<PlatformMetrics>& samples,
                                    const Getter& get) {
  double sum = 0, weight = 0;
  for (const PlatformMetrics& m : samples) {
    auto v = get(m);
    if (!v || !m.interval_ns) continue;
    double w = static_cast<double>(*m.interval_ns);
    sum += *v * w;
    weight += w;
  }
  return weight > 0 ? std::optional<double>(sum / weight) : std::nullopt;
}

std::optional<double> psi_some(const std::optional<PsiMetrics>& p) {
  return p ? p->some_percent : std::nullopt;
}

template <typename T>
std::optional<double> delta(const std::optional<T>& last, const std::optional<T>& first) {
  if (!last || !first) return std::nullopt;
  return *last >= *first ? static_cast<double>(*last - *first) : 0.0;
}

// A rate over the whole sampled window from the first and last cumulative readings.
template <typename T>
std::optional<double> counter_rate(const std::vector<PlatformMetrics>& s,
                                   std::optional<T> MemoryResourceMetrics::*field) {
  if (s.size() < 2 || s.back().timestamp_ns <= s.front().timestamp_ns) return std::nullopt;
  auto d = delta(s.back().memory.*field, s.front().memory.*field);
  if (!d) return std::nullopt;
  return *d * 1e9 / static_cast<double>(s.back().timestamp_ns - s.front().timestamp_ns);
}

std::optional<uint64_t> cpu_ns(const ThreadResourceMetrics& t) {
  if (t.cpu_time_total_ns) return t.cpu_time_total_ns;
  if (t.cpu_time_user_ns && t.cpu_time_kernel_ns)
    return *t.cpu_time_user_ns + *t.cpu_time_kernel_ns;
  return std::nullopt;
}

ThreadFigures thread_figures(const ProcessAnalysis& p, const ThreadResourceMetrics& first,
                             uint64_t first_t, const ThreadResourceMetrics& last, uint64_t last_t) {
  ThreadFigures f;
  f.tid = last.thread_id;
  f.name = last.thread_name;
  f.span_s = static_cast<double>(last_t - first_t) / 1e9;
  f.cpu_s = delta(cpu_ns(last), cpu_ns(first)).value_or(0) / 1e9;
  if (auto w = delta(last.run_queue_wait_ns, first.run_queue_wait_ns))
    f.run_queue_wait_s = *w / 1e9;
  f.off_cpu_s = std::max(0.0, f.span_s - f.cpu_s - f.run_queue_wait_s.value_or(0));
  if (auto v = delta(last.voluntary_context_switches, first.voluntary_context_switches))
    f.voluntary_switches_per_sec = *v / f.span_s;
  if (auto v = delta(last.involuntary_context_switches, first.involuntary_context_switches))
    f.involuntary_switches_per_sec = *v / f.span_s;
  auto it = p.heap().per_thread().find(static_cast<uint32_t>(f.tid));
  if (it != p.heap().per_thread().end()) f.allocations = it->second.allocations;
  return f;
}

std::vector<ThreadFigures> all_threads(const ProcessAnalysis& p) {
  struct Seen {
    const ThreadResourceMetrics* first = nullptr;
    uint64_t first_t = 0;
    const ThreadResourceMetrics* last = nullptr;
    uint64_t last_t = 0;
  };
  std::map<int32_t, Seen> seen;
  for (const PlatformMetrics& m : p.metric_samples()) {
    for (const ThreadResourceMetrics& t : m.threads) {
      if (is_profiler_thread(p, t)) continue;
      Seen& s = seen[t.thread_id];
      if (!s.first) s.first = &t, s.first_t = m.timestamp_ns;
      s.last = &t, s.last_t = m.timestamp_ns;
    }
  }
  std::vector<ThreadFigures> out;
  for (const auto& [tid, s] : seen)
    if (s.last_t > s.first_t)
      out.push_back(thread_figures(p, *s.first, s.first_t, *s.last, s.last_t));
  return out;
}

// Storage bytes of memscope's own thread (the trace it writes) per second of the window.
std::optional<double> profiler_io(const ProcessAnalysis& p) {
  std::optional<double> bytes;
  std::map<int32_t, std::pair<const ThreadResourceMetrics*, const ThreadResourceMetrics*>> seen;
  for (const PlatformMetrics& m : p.metric_samples())
    for (const ThreadResourceMetrics& t : m.threads)
      if (is_profiler_thread(p, t)) {
        auto& [first, last] = seen[t.thread_id];
        if (!first) first = &t;
        last = &t;
      }
  for (const auto& [tid, fl] : seen) {
    auto r = delta(fl.second->io_read_bytes, fl.first->io_read_bytes);
    auto w = delta(fl.second->io_write_bytes, fl.first->io_write_bytes);
    if (r || w) bytes = bytes.value_or(0) + r.value_or(0) + w.value_or(0);
  }
  const auto& s = p.metric_samples();
  if (!bytes || s.size() < 2 || s.back().timestamp_ns <= s.front().timestamp_ns)
    return std::nullopt;
  return *bytes * 1e9 / static_cast<double>(s.back().timestamp_ns - s.front().timestamp_ns);
}

void thread_shares(ProcessFigures& f) {
  double span = 0, cpu = 0, wait = 0, off = 0, vol = 0;
  bool have_wait = false, have_vol = false;
  for (const ThreadFigures& t : f.threads) {
    span += t.span_s, cpu += t.cpu_s, off += t.off_cpu_s;
    if (t.run_queue_wait_s) wait += *t.run_queue_wait_s, have_wait = true;
    if (t.voluntary_switches_per_sec)
      vol += *t.voluntary_switches_per_sec * t.span_s, have_vol = true;
  }
  if (span <= 0) return;
  f.on_cpu_share = cpu / span;
  if (cpu + off > 0) f.cpu_busy_share = cpu / (cpu + off);
  f.off_cpu_share = off / span;
  if (have_wait) f.run_queue_wait_share = wait / span;
  if (have_vol) f.voluntary_switches_per_thread_sec = vol / span;
}

void cpu_capacity(ProcessFigures& f, const std::vector<PlatformMetrics>& s) {
  for (const PlatformMetrics& m : s) {
    if (m.cpu.online_cores) f.online_cores = *m.cpu.online_cores;
    if (m.cgroup.cpu_quota_cores) f.cpu_quota_cores = *m.cgroup.cpu_quota_cores;
    if (m.memory.process_rss_bytes)
      f.rss_bytes_max = std::max(f.rss_bytes_max.value_or(0), double(*m.memory.process_rss_bytes));
    if (m.cgroup.memory_limit_bytes) f.memory_limit_bytes = double(*m.cgroup.memory_limit_bytes);
  }
  f.usable_cores = f.online_cores;
  if (f.cpu_quota_cores)
    f.usable_cores = std::min(f.usable_cores.value_or(*f.cpu_quota_cores), *f.cpu_quota_cores);
}

void aligned_means(ProcessFigures& f, const std::vector<AlignedSample>& a) {
  double window = 0, ops = 0, cpu = 0, cpu_w = 0, io = 0, io_w = 0, gpu = 0, gpu_w = 0;
  for (const AlignedSample& s : a) {
    double w = static_cast<double>(s.interval_ns) / 1e9;
    window += w;
    ops += (s.allocations_per_sec + s.frees_per_sec) * w;
    if (s.process_cpu_percent) cpu += *s.process_cpu_percent / 100.0 * w, cpu_w += w;
    if (s.process_io_bytes_per_sec) io += *s.process_io_bytes_per_sec * w, io_w += w;
    if (s.gpu_percent) gpu += *s.gpu_percent * w, gpu_w += w;
  }
  f.samples = a.size();
  f.window_s = window;
  if (window <= 0) return;
  f.heap_ops_per_sec = ops / window;
  if (cpu_w > 0) f.process_cpu_cores = cpu / cpu_w;
  if (io_w > 0) f.process_io_bytes_per_sec = io / io_w;
  if (gpu_w > 0) f.gpu_percent = gpu / gpu_w;
  if (cpu > 0) f.heap_ops_per_cpu_second = ops / cpu;
}

}  // namespace

ProcessFigures compute_figures(const ProcessAnalysis& p, const std::vector<AlignedSample>& a) {
  const auto& s = p.metric_samples();
  ProcessFigures f;
  aligned_means(f, a);
  cpu_capacity(f, s);
  if (f.process_cpu_cores && f.usable_cores && *f.usable_cores > 0)
    f.cpu_utilization = *f.process_cpu_cores / *f.usable_cores;
  f.machine_cpu_percent = weighted_mean(s, [](auto& m) { return m.cpu.overall_usage_percent; });
  f.iowait_percent = weighted_mean(s, [](auto& m) { return m.cpu.iowait_percent; });
  f.psi_cpu_some_percent = weighted_mean(s, [](auto& m) { return psi_some(m.cpu.psi_cpu); });
  f.psi_memory_some_percent = weighted_mean(s, [](auto& m) { return psi_some(m.cpu.psi_memory); });
  f.psi_io_some_percent = weighted_mean(s, [](auto& m) { return psi_some(m.cpu.psi_io); });
  f.psi_io_full_percent = weighted_mean(s, [](const PlatformMetrics& m) {
    return m.cpu.psi_io ? m.cpu.psi_io->full_percent : std::nullopt;
  });
  if (s.size() >= 2 && s.back().timestamp_ns > s.front().timestamp_ns) {
    auto d = delta(s.back().cgroup.cpu_throttled_usec, s.front().cgroup.cpu_throttled_usec);
    if (d)
      f.cgroup_throttled_percent =
          *d * 1e3 / double(s.back().timestamp_ns - s.front().timestamp_ns) * 100;
  }
  f.major_faults_per_sec = counter_rate(s, &MemoryResourceMetrics::process_major_faults);
  f.minor_faults_per_sec = counter_rate(s, &MemoryResourceMetrics::process_minor_faults);
  f.profiler_io_bytes_per_sec = profiler_io(p);
  if (f.process_io_bytes_per_sec && f.profiler_io_bytes_per_sec)
    f.process_io_bytes_per_sec =
        std::max(0.0, *f.process_io_bytes_per_sec - *f.profiler_io_bytes_per_sec);
  f.threads = all_threads(p);
  thread_shares(f);
  return f;
}

}  // namespace memscope::analyzer::insights
