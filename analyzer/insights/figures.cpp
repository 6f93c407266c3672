// See figures.hpp. Means are weighted by each sample's interval, so an irregular sampling
// interval (the collector backs off under load) does not bias them. Time a thread waited on
// memscope is memscope's: it is taken out of the thread's off-CPU (blocked) time before any
// share, rule or ranking sees it.
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

std::optional<double> seconds(std::optional<double> ns) {
  return ns ? std::optional<double>(*ns / 1e9) : std::nullopt;
}

// memscope's waits in a sampled span of a trace without per-sample wait figures (written before
// they existed): the thread's lifetime ring waits (kThreadEnd) spread evenly over its life.
double prorated_ring_wait(const ThreadInfo* info, double span_s) {
  if (!info || !info->ring_wait_ns || info->end_stamp <= info->start_stamp || !info->start_stamp)
    return 0;
  double life_s = static_cast<double>(info->end_stamp - info->start_stamp) / 1e9;
  return static_cast<double>(info->ring_wait_ns) / 1e9 * std::min(1.0, span_s / life_s);
}

const ThreadInfo* thread_info(const ProcessAnalysis& p, int32_t tid) {
  auto it = p.threads().find(static_cast<uint64_t>(tid));
  return it == p.threads().end() ? nullptr : &it->second;
}

// A producer woken from a memscope wait may queue for a CPU before it runs: that part is the
// scheduler's run-queue wait already, so memscope's share is capped at what is left.
void finish_thread(const ProcessAnalysis& p, ThreadFigures& f) {
  double not_running = std::max(0.0, f.span_s - f.cpu_s - f.run_queue_wait_s.value_or(0));
  f.profiler_wait_s = std::min(f.profiler_wait_s, not_running);
  f.off_cpu_s = not_running - f.profiler_wait_s;
  auto it = p.heap().per_thread().find(static_cast<uint32_t>(f.tid));
  if (it != p.heap().per_thread().end()) f.allocations = it->second.allocations;
}

ThreadFigures sampled_thread(const ProcessAnalysis& p, const ThreadResourceMetrics& first,
                             uint64_t first_t, const ThreadResourceMetrics& last, uint64_t last_t) {
  ThreadFigures f;
  f.tid = last.thread_id;
  f.name = last.thread_name;
  f.span_s = static_cast<double>(last_t - first_t) / 1e9;
  f.cpu_s = delta(cpu_ns(last), cpu_ns(first)).value_or(0) / 1e9;
  f.user_s = seconds(delta(last.cpu_time_user_ns, first.cpu_time_user_ns));
  f.system_s = seconds(delta(last.cpu_time_kernel_ns, first.cpu_time_kernel_ns));
  f.run_queue_wait_s = seconds(delta(last.run_queue_wait_ns, first.run_queue_wait_ns));
  if (auto w = delta(last.profiler_wait_ns, first.profiler_wait_ns))
    f.profiler_wait_s = *w / 1e9;
  else
    f.profiler_wait_s = prorated_ring_wait(thread_info(p, f.tid), f.span_s);
  if (auto v = delta(last.voluntary_context_switches, first.voluntary_context_switches))
    f.voluntary_switches_per_sec = *v / f.span_s;
  if (auto v = delta(last.involuntary_context_switches, first.involuntary_context_switches))
    f.involuntary_switches_per_sec = *v / f.span_s;
  f.minor_faults = delta(last.minor_faults, first.minor_faults);
  f.major_faults = delta(last.major_faults, first.major_faults);
  finish_thread(p, f);
  return f;
}

// A thread whose own readings at start and end are in the trace: its whole life, exactly. Only
// the run-queue wait is not in them (the kernel gives it in schedstat alone): where the thread
// was sampled, the share of its sampled span it spent queued is taken for its life; without
// samples it is unknown, and off-CPU time then includes any time queued.
ThreadFigures exact_thread(const ProcessAnalysis& p, const ThreadInfo& info,
                           const std::optional<ThreadFigures>& sampled) {
  const ThreadCpu& a = *info.cpu_at_start;
  const ThreadCpu& b = *info.cpu_at_end;
  auto d = [](uint64_t later, uint64_t earlier) {
    return later >= earlier ? static_cast<double>(later - earlier) : 0.0;
  };
  ThreadFigures f;
  f.tid = static_cast<int32_t>(info.tid);
  f.name = info.name.empty() && sampled ? sampled->name : info.name;
  f.exact = true;
  f.span_s = d(b.stamp, a.stamp) / 1e9;
  f.cpu_s = std::min(f.span_s, d(b.cpu_ns, a.cpu_ns) / 1e9);
  f.user_s = d(b.user_ns, a.user_ns) / 1e9;
  f.system_s = d(b.system_ns, a.system_ns) / 1e9;
  if (sampled && sampled->run_queue_wait_s && sampled->span_s > 0)
    f.run_queue_wait_s = *sampled->run_queue_wait_s / sampled->span_s * f.span_s;
  f.profiler_wait_s = d(b.profiler_wait_ns, a.profiler_wait_ns) / 1e9;
  f.voluntary_switches_per_sec = d(b.voluntary_switches, a.voluntary_switches) / f.span_s;
  f.involuntary_switches_per_sec = d(b.involuntary_switches, a.involuntary_switches) / f.span_s;
  f.minor_faults = d(b.minor_faults, a.minor_faults);
  f.major_faults = d(b.major_faults, a.major_faults);
  finish_thread(p, f);
  return f;
}

bool has_exact_readings(const ThreadInfo& t) {
  return t.cpu_at_start && t.cpu_at_end && t.cpu_at_end->stamp > t.cpu_at_start->stamp;
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
  std::map<int32_t, ThreadFigures> out;
  for (const auto& [tid, s] : seen)
    if (s.last_t > s.first_t)
      out.emplace(tid, sampled_thread(p, *s.first, s.first_t, *s.last, s.last_t));
  for (const auto& [tid, info] : p.threads()) {
    if (!has_exact_readings(info)) continue;
    auto key = static_cast<int32_t>(tid);
    auto it = out.find(key);
    std::optional<ThreadFigures> sampled;
    if (it != out.end()) sampled = it->second;
    out[key] = exact_thread(p, info, sampled);
  }
  std::vector<ThreadFigures> list;
  for (auto& [tid, f] : out)
    if (f.span_s > 0) list.push_back(std::move(f));
  return list;
}

// The sidecar thread's first and last samples (it is sampled with the process).
template <typename F>
void for_profiler_threads(const ProcessAnalysis& p, F&& each) {
  std::map<int32_t, std::pair<const ThreadResourceMetrics*, const ThreadResourceMetrics*>> seen;
  for (const PlatformMetrics& m : p.metric_samples())
    for (const ThreadResourceMetrics& t : m.threads)
      if (is_profiler_thread(p, t)) {
        auto& [first, last] = seen[t.thread_id];
        if (!first) first = &t;
        last = &t;
      }
  for (const auto& [tid, fl] : seen) each(*fl.first, *fl.second);
}

std::optional<double> sampled_window_s(const ProcessAnalysis& p) {
  const auto& s = p.metric_samples();
  if (s.size() < 2 || s.back().timestamp_ns <= s.front().timestamp_ns) return std::nullopt;
  return static_cast<double>(s.back().timestamp_ns - s.front().timestamp_ns) / 1e9;
}

// Storage bytes of memscope's own thread (the trace it writes) per second of the window.
std::optional<double> profiler_io(const ProcessAnalysis& p) {
  std::optional<double> bytes;
  for_profiler_threads(p,
                       [&](const ThreadResourceMetrics& first, const ThreadResourceMetrics& last) {
                         auto r = delta(last.io_read_bytes, first.io_read_bytes);
                         auto w = delta(last.io_write_bytes, first.io_write_bytes);
                         if (r || w) bytes = bytes.value_or(0) + r.value_or(0) + w.value_or(0);
                       });
  auto window = sampled_window_s(p);
  if (!bytes || !window) return std::nullopt;
  return *bytes / *window;
}

// The sidecar thread's CPU, in cores, over the window.
std::optional<double> profiler_cpu(const ProcessAnalysis& p) {
  std::optional<double> ns;
  for_profiler_threads(p,
                       [&](const ThreadResourceMetrics& first, const ThreadResourceMetrics& last) {
                         if (auto d = delta(cpu_ns(last), cpu_ns(first))) ns = ns.value_or(0) + *d;
                       });
  auto window = sampled_window_s(p);
  if (!ns || !window) return std::nullopt;
  return *ns / 1e9 / *window;
}

void thread_shares(ProcessFigures& f) {
  double span = 0, cpu = 0, wait = 0, off = 0, vol = 0, profiler = 0, max_cpu = 0;
  double user = 0, system = 0, minor = 0, minor_cpu = 0;
  double weighted_busy = 0, weighted_vol = 0, vol_cpu = 0;
  bool have_wait = false, have_vol = false, have_split = true, have_minor = false;
  for (const ThreadFigures& t : f.threads) {
    span += t.span_s, cpu += t.cpu_s, off += t.off_cpu_s, profiler += t.profiler_wait_s;
    max_cpu = std::max(max_cpu, t.cpu_s);
    if (t.run_queue_wait_s) wait += *t.run_queue_wait_s, have_wait = true;
    if (t.voluntary_switches_per_sec) {
      vol += *t.voluntary_switches_per_sec * t.span_s, have_vol = true;
      weighted_vol += t.cpu_s * *t.voluntary_switches_per_sec, vol_cpu += t.cpu_s;
    }
    if (t.cpu_s + t.off_cpu_s > 0) weighted_busy += t.cpu_s * t.cpu_s / (t.cpu_s + t.off_cpu_s);
    if (t.user_s && t.system_s)
      user += *t.user_s, system += *t.system_s;
    else
      have_split = false;
    if (t.minor_faults) minor += *t.minor_faults, minor_cpu += t.cpu_s, have_minor = true;
  }
  if (span <= 0) return;
  f.on_cpu_share = cpu / span;
  if (cpu + off > 0) f.cpu_busy_share = cpu / (cpu + off);
  f.off_cpu_share = off / span;
  f.profiler_wait_share = profiler / span;
  if (have_wait) f.run_queue_wait_share = wait / span;
  if (have_vol) f.voluntary_switches_per_thread_sec = vol / span;
  if (cpu > 0) f.active_busy_share = weighted_busy / cpu;
  if (vol_cpu > 0) f.active_voluntary_switches_per_sec = weighted_vol / vol_cpu;
  for (const ThreadFigures& t : f.threads)
    if (max_cpu > 0 && t.cpu_s >= kActiveCpuRatio * max_cpu) ++f.active_threads;
  if (have_split && !f.threads.empty()) {
    f.user_cpu_seconds = user, f.system_cpu_seconds = system;
    if (user + system > 0) f.system_cpu_share = system / (user + system);
  }
  if (have_minor && minor_cpu > 0) f.minor_faults_per_cpu_second = minor / minor_cpu;
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
  f.profiler_io_bytes_per_sec = profiler_io(p);  // already left out of the aligned IO rates
  f.profiler_cpu_cores = profiler_cpu(p);
  if (f.profiler_cpu_cores && f.usable_cores && *f.usable_cores > 0)
    f.profiler_cpu_share_of_usable_cores = *f.profiler_cpu_cores / *f.usable_cores;
  f.threads = all_threads(p);
  thread_shares(f);
  HardwareReport hw = hardware_figures(p.hw_readings());
  f.hardware = hw.process;
  for (ThreadFigures& t : f.threads) {
    auto it = hw.threads.find(static_cast<uint64_t>(t.tid));
    if (it != hw.threads.end()) t.hardware = it->second;
  }
  return f;
}

}  // namespace memscope::analyzer::insights
