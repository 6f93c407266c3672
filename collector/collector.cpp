// PlatformResourceCollector: the platform-neutral front of the collector. It stamps samples,
// measures the actual interval, takes the baseline reading that gives the first sample its
// rates, and chooses the next interval (see docs/collector.md, "Adaptive interval").
#include <time.h>

#include <algorithm>

#include "memscope/collector.hpp"

namespace memscope {
namespace {

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// PSI "some" CPU stall above this share of the interval counts as saturation.
constexpr double kSaturatedCpuPressurePercent = 40.0;

// The cores the process may use: the online cores, or the cgroup quota when that is tighter.
std::optional<double> usable_cores(const PlatformMetrics& m) {
  std::optional<double> cores;
  if (m.cpu.online_cores) cores = *m.cpu.online_cores;
  if (m.cgroup.cpu_quota_cores) cores = std::min(cores.value_or(1e9), *m.cgroup.cpu_quota_cores);
  return cores;
}

bool saturated(const PlatformMetrics& m) {
  auto cores = usable_cores(m);
  if (cores && m.cpu.load_average && (*m.cpu.load_average)[0] >= *cores) return true;
  if (cores && m.cpu.procs_running && *m.cpu.procs_running > *cores) return true;
  return m.cpu.psi_cpu && m.cpu.psi_cpu->some_percent &&
         *m.cpu.psi_cpu->some_percent >= kSaturatedCpuPressurePercent;
}

// Empties `m` as PlatformMetrics{} would, but keeps the storage of the lists that every sample
// refills (threads, cores, sensors, devices, errors).
void clear_keeping_storage(PlatformMetrics& m) {
  auto threads = std::move(m.threads);
  auto per_core = std::move(m.cpu.per_core_usage);
  auto frequency = std::move(m.cpu.frequency_mhz);
  auto temperatures = std::move(m.cpu.temperature_celsius);
  auto disks = std::move(m.io.disks);
  auto networks = std::move(m.io.networks);
  auto errors = std::move(m.errors);
  auto cgroup_path = std::move(m.cgroup.path);
  m = PlatformMetrics{};
  threads.clear(), per_core.clear(), frequency.clear(), temperatures.clear();
  disks.clear(), networks.clear(), errors.clear(), cgroup_path.clear();
  m.threads = std::move(threads);
  m.cpu.per_core_usage = std::move(per_core);
  m.cpu.frequency_mhz = std::move(frequency);
  m.cpu.temperature_celsius = std::move(temperatures);
  m.io.disks = std::move(disks);
  m.io.networks = std::move(networks);
  m.errors = std::move(errors);
  m.cgroup.path = std::move(cgroup_path);
}

}  // namespace

std::chrono::milliseconds adaptive_interval(const PlatformMetrics& last,
                                            const CollectorOptions& options) {
  uint64_t threads = last.thread_count.value_or(static_cast<uint32_t>(last.threads.size()));
  int doublings = 0;
  if (threads > options.many_threads) ++doublings;
  if (threads > 4ull * options.many_threads) ++doublings;
  if (saturated(last)) ++doublings;
  auto interval = options.interval * (1 << doublings);
  return std::max(options.interval, std::min(interval, options.max_interval));
}

PlatformResourceCollector::PlatformResourceCollector(CollectorOptions options)
    : options_(std::move(options)), next_interval_(options_.interval) {
  if (!options_.clock) options_.clock = monotonic_ns;
  backend_ = make_platform_backend(options_);
  // The baseline: every rate of the first collect_metrics() is a delta against this reading.
  PlatformMetrics baseline;
  baseline.timestamp_ns = last_ns_ = options_.clock();
  backend_->sample(baseline, 0);
}

PlatformResourceCollector::~PlatformResourceCollector() = default;

PlatformMetrics PlatformResourceCollector::collect_metrics() {
  PlatformMetrics metrics;
  collect_metrics(metrics);
  return metrics;
}

void PlatformResourceCollector::collect_metrics(PlatformMetrics& metrics) {
  clear_keeping_storage(metrics);
  metrics.timestamp_ns = options_.clock();
  uint64_t interval = metrics.timestamp_ns > last_ns_ ? metrics.timestamp_ns - last_ns_ : 0;
  if (interval > 0) metrics.interval_ns = interval;
  last_ns_ = metrics.timestamp_ns;
  backend_->sample(metrics, interval);
  next_interval_ = adaptive_interval(metrics, options_);
}

std::chrono::milliseconds PlatformResourceCollector::get_optimal_collection_interval() const {
  return next_interval_;
}

const CollectorCapabilities& PlatformResourceCollector::capabilities() const {
  return backend_->capabilities();
}

}  // namespace memscope
