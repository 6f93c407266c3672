// See metric_series.hpp. Cumulative counters (page faults, cgroup throttling, run-queue wait)
// become rates from the difference between consecutive samples, so their series start at the
// second sample.
#include "analyzer/insights/metric_series.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>

namespace memscope::analyzer::insights {
namespace {

// Collects points by series name, keeping first-seen order so output is stable.
class SeriesBuilder {
 public:
  void add(const std::string& name, const char* unit, uint64_t t, std::optional<double> v,
           const std::string& thread_name = {}) {
    if (!v) return;
    auto [it, fresh] = index_.try_emplace(name, series_.size());
    if (fresh) series_.push_back({name, unit, thread_name, {}, {}});
    series_[it->second].timestamps_ns.push_back(t);
    series_[it->second].values.push_back(*v);
  }
  std::vector<MetricSeries> take() { return std::move(series_); }

 private:
  std::map<std::string, size_t> index_;
  std::vector<MetricSeries> series_;
};

template <typename T>
std::optional<double> as_double(const std::optional<T>& v) {
  return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
}

// Rate per second of a cumulative counter between two samples; a counter that went backwards
// (reset) counts as no change, as the collector does.
template <typename T>
std::optional<double> rate(const std::optional<T>& now, const std::optional<T>& before,
                           uint64_t dt_ns) {
  if (!now || !before || dt_ns == 0) return std::nullopt;
  double d = *now >= *before ? static_cast<double>(*now - *before) : 0.0;
  return d * 1e9 / static_cast<double>(dt_ns);
}

void add_psi(SeriesBuilder& b, const char* resource, uint64_t t,
             const std::optional<PsiMetrics>& psi) {
  if (!psi) return;
  std::string base = std::string("psi.") + resource;
  b.add(base + ".some_percent", "percent", t, psi->some_percent);
  b.add(base + ".full_percent", "percent", t, psi->full_percent);
}

void add_cpu(SeriesBuilder& b, uint64_t t, const CpuResourceMetrics& c) {
  b.add("cpu.overall_usage_percent", "percent", t, c.overall_usage_percent);
  for (size_t i = 0; i < c.per_core_usage.size(); ++i)
    b.add("cpu.core" + std::to_string(i) + ".usage_percent", "percent", t, c.per_core_usage[i]);
  b.add("cpu.user_percent", "percent", t, c.user_percent);
  b.add("cpu.system_percent", "percent", t, c.system_percent);
  b.add("cpu.iowait_percent", "percent", t, c.iowait_percent);
  b.add("cpu.irq_percent", "percent", t, c.irq_percent);
  b.add("cpu.steal_percent", "percent", t, c.steal_percent);
  for (size_t i = 0; i < c.frequency_mhz.size(); ++i)
    b.add("cpu.core" + std::to_string(i) + ".frequency_mhz", "MHz", t, c.frequency_mhz[i]);
  for (const TemperatureSensor& s : c.temperature_celsius)
    b.add("temperature." + s.label, "celsius", t, s.celsius);
  b.add("cpu.context_switches_per_sec", "per_s", t, c.context_switches_per_sec);
  b.add("cpu.interrupts_per_sec", "per_s", t, c.interrupts_per_sec);
  if (c.load_average) {
    b.add("cpu.load_average_1m", "load", t, (*c.load_average)[0]);
    b.add("cpu.load_average_5m", "load", t, (*c.load_average)[1]);
    b.add("cpu.load_average_15m", "load", t, (*c.load_average)[2]);
  }
  b.add("cpu.procs_running", "count", t, as_double(c.procs_running));
  add_psi(b, "cpu", t, c.psi_cpu);
  add_psi(b, "memory", t, c.psi_memory);
  add_psi(b, "io", t, c.psi_io);
}

void add_memory(SeriesBuilder& b, uint64_t t, const PlatformMetrics& m,
                const PlatformMetrics* prev) {
  b.add("memory.process_rss_bytes", "bytes", t, as_double(m.memory.process_rss_bytes));
  b.add("memory.process_virtual_bytes", "bytes", t, as_double(m.memory.process_virtual_bytes));
  b.add("memory.machine_available_bytes", "bytes", t, as_double(m.memory.machine_available_bytes));
  if (!prev) return;
  uint64_t dt = m.timestamp_ns - prev->timestamp_ns;
  b.add("memory.minor_faults_per_sec", "per_s", t,
        rate(m.memory.process_minor_faults, prev->memory.process_minor_faults, dt));
  b.add("memory.major_faults_per_sec", "per_s", t,
        rate(m.memory.process_major_faults, prev->memory.process_major_faults, dt));
}

void add_io(SeriesBuilder& b, uint64_t t, const IoResourceMetrics& io) {
  for (const DiskIoMetrics& d : io.disks) {
    b.add("disk." + d.device + ".read_bytes_per_sec", "bytes/s", t, d.read_bytes_per_sec);
    b.add("disk." + d.device + ".write_bytes_per_sec", "bytes/s", t, d.write_bytes_per_sec);
  }
  for (const NetworkIoMetrics& n : io.networks) {
    b.add("net." + n.interface + ".rx_bytes_per_sec", "bytes/s", t, n.rx_bytes_per_sec);
    b.add("net." + n.interface + ".tx_bytes_per_sec", "bytes/s", t, n.tx_bytes_per_sec);
  }
}

void add_process_io(SeriesBuilder& b, const ProcessAnalysis& p, uint64_t t,
                    const PlatformMetrics& m, const PlatformMetrics* prev) {
  IoSplit io = split_process_io(p, m, prev);
  b.add("io.process_read_bytes_per_sec", "bytes/s", t, io.read);
  b.add("io.process_write_bytes_per_sec", "bytes/s", t, io.write);
  b.add("io.profiler_read_bytes_per_sec", "bytes/s", t, io.profiler_read);
  b.add("io.profiler_write_bytes_per_sec", "bytes/s", t, io.profiler_write);
}

void add_cgroup(SeriesBuilder& b, uint64_t t, const PlatformMetrics& m,
                const PlatformMetrics* prev) {
  b.add("cgroup.cpu_quota_cores", "cores", t, m.cgroup.cpu_quota_cores);
  b.add("cgroup.memory_usage_bytes", "bytes", t, as_double(m.cgroup.memory_usage_bytes));
  b.add("cgroup.memory_limit_bytes", "bytes", t, as_double(m.cgroup.memory_limit_bytes));
  if (!prev) return;
  // Throttled microseconds per second of wall time, as a percentage.
  auto us = rate(m.cgroup.cpu_throttled_usec, prev->cgroup.cpu_throttled_usec,
                 m.timestamp_ns - prev->timestamp_ns);
  if (us) b.add("cgroup.cpu_throttled_percent", "percent", t, *us / 1e6 * 100.0);
}

void add_gpu(SeriesBuilder& b, uint64_t t, const PlatformMetrics& m) {
  if (!m.gpu) return;
  for (size_t i = 0; i < m.gpu->size(); ++i) {
    const GpuResourceMetrics& g = (*m.gpu)[i];
    std::string base = "gpu" + std::to_string(i) + ".";
    b.add(base + "compute_usage_percent", "percent", t, g.compute_usage_percent);
    b.add(base + "memory_usage_percent", "percent", t, g.memory_usage_percent);
    b.add(base + "memory_used_bytes", "bytes", t, as_double(g.memory_used_bytes));
    b.add(base + "temperature_celsius", "celsius", t, g.temperature_celsius);
    b.add(base + "power_watts", "W", t, g.power_usage_watts);
    b.add(base + "frequency_mhz", "MHz", t, g.frequency_mhz);
  }
}

const ThreadResourceMetrics* find_thread(const PlatformMetrics& m, int32_t tid) {
  for (const ThreadResourceMetrics& t : m.threads)
    if (t.thread_id == tid) return &t;
  return nullptr;
}

void add_threads(SeriesBuilder& b, const ProcessAnalysis& p, uint64_t t, const PlatformMetrics& m,
                 const PlatformMetrics* prev) {
  b.add("process.cpu_percent", "percent_of_core", t, process_cpu_percent(p, m));
  b.add("process.thread_count", "count", t, as_double(m.thread_count));
  for (const ThreadResourceMetrics& th : m.threads) {
    std::string base = "thread." + std::to_string(th.thread_id) + ".";
    b.add(base + "cpu_percent", "percent_of_core", t, th.cpu_usage_percent, th.thread_name);
    const ThreadResourceMetrics* before = prev ? find_thread(*prev, th.thread_id) : nullptr;
    if (!before) continue;
    // Share of the interval the thread spent runnable but waiting for a CPU.
    auto wait =
        rate(th.run_queue_wait_ns, before->run_queue_wait_ns, m.timestamp_ns - prev->timestamp_ns);
    if (wait)
      b.add(base + "run_queue_wait_percent", "percent", t, *wait / 1e9 * 100.0, th.thread_name);
  }
}

}  // namespace

SeriesSummary summarize(const MetricSeries& s) {
  SeriesSummary out;
  out.samples = s.values.size();
  if (s.values.empty()) return out;
  out.min = *std::min_element(s.values.begin(), s.values.end());
  out.max = *std::max_element(s.values.begin(), s.values.end());
  double sum = 0;
  for (double v : s.values) sum += v;
  out.mean = sum / static_cast<double>(s.values.size());
  return out;
}

bool is_profiler_thread(const ProcessAnalysis& p, const ThreadResourceMetrics& t) {
  return p.sidecar_tid() != 0 && static_cast<uint64_t>(t.thread_id) == p.sidecar_tid();
}

std::optional<double> process_cpu_percent(const ProcessAnalysis& p, const PlatformMetrics& m) {
  std::optional<double> sum;
  for (const ThreadResourceMetrics& t : m.threads) {
    if (!t.cpu_usage_percent || is_profiler_thread(p, t)) continue;
    sum = sum.value_or(0.0) + *t.cpu_usage_percent;
  }
  return sum;
}

IoSplit split_process_io(const ProcessAnalysis& p, const PlatformMetrics& m,
                         const PlatformMetrics* prev) {
  IoSplit out{m.io.process_read_bytes_per_sec, m.io.process_write_bytes_per_sec, {}, {}};
  auto profiler = [&](const PlatformMetrics& s) -> const ThreadResourceMetrics* {
    for (const ThreadResourceMetrics& t : s.threads)
      if (is_profiler_thread(p, t)) return &t;
    return nullptr;
  };
  const ThreadResourceMetrics* now = profiler(m);
  if (!now) return out;  // memscope's thread not sampled (per-thread figures off): as recorded
  const ThreadResourceMetrics* before = prev ? find_thread(*prev, now->thread_id) : nullptr;
  uint64_t dt = prev ? m.timestamp_ns - prev->timestamp_ns : 0;
  out.profiler_read = before ? rate(now->io_read_bytes, before->io_read_bytes, dt) : std::nullopt;
  out.profiler_write =
      before ? rate(now->io_write_bytes, before->io_write_bytes, dt) : std::nullopt;
  auto net = [](std::optional<double> total, std::optional<double> own) -> std::optional<double> {
    if (!total || !own) return std::nullopt;
    return std::max(0.0, *total - *own);
  };
  out.read = net(out.read, out.profiler_read);
  out.write = net(out.write, out.profiler_write);
  return out;
}

std::vector<MetricSeries> extract_series(const ProcessAnalysis& p) {
  SeriesBuilder b;
  const PlatformMetrics* prev = nullptr;
  for (const PlatformMetrics& m : p.metric_samples()) {
    uint64_t t = m.timestamp_ns;
    add_cpu(b, t, m.cpu);
    add_memory(b, t, m, prev);
    add_io(b, t, m.io);
    add_process_io(b, p, t, m, prev);
    add_cgroup(b, t, m, prev);
    add_gpu(b, t, m);
    add_threads(b, p, t, m, prev);
    prev = &m;
  }
  return b.take();
}

}  // namespace memscope::analyzer::insights
