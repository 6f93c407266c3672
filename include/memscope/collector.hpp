// memscope's platform metrics library: what the sidecar samples about the machine and the traced
// process (CPU, GPU, IO, memory, cgroup, threads). Every figure a machine cannot give is an empty
// std::optional, never 0 or a placeholder. docs/collector.md lists sources and units.
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace memscope {

// Pressure stall information of one resource (/proc/pressure/<resource>).
struct PsiMetrics {
  std::optional<double> some_avg10;  // kernel's 10 s average, percent
  std::optional<double> full_avg10;
  std::optional<uint64_t> some_total_us;  // cumulative stall time, microseconds
  std::optional<uint64_t> full_total_us;
  std::optional<double> some_percent;  // change of some_total over the sample interval, percent
  std::optional<double> full_percent;

  bool operator==(const PsiMetrics&) const = default;
};

struct TemperatureSensor {
  std::string label;  // "coretemp/Package id 0", "thermal/x86_pkg_temp"
  double celsius = 0;

  bool operator==(const TemperatureSensor&) const = default;
};

struct CpuResourceMetrics {
  std::optional<double> overall_usage_percent;  // 100 = every online core busy
  // Indexed by core number; an offline or missing core is an empty optional.
  std::vector<std::optional<double>> per_core_usage;
  std::optional<double> user_percent;  // user + nice (guest time is already inside user)
  std::optional<double> system_percent;
  std::optional<double> iowait_percent;
  std::optional<double> irq_percent;  // irq + softirq
  std::optional<double> steal_percent;
  std::optional<double> idle_percent;
  std::vector<std::optional<double>> frequency_mhz;  // indexed by core number
  std::vector<TemperatureSensor> temperature_celsius;
  std::optional<double> context_switches_per_sec;
  std::optional<double> interrupts_per_sec;
  std::optional<std::array<double, 3>> load_average;  // 1, 5, 15 minutes
  std::optional<uint32_t> online_cores;
  std::optional<uint32_t> procs_running;
  std::optional<PsiMetrics> psi_cpu;
  std::optional<PsiMetrics> psi_memory;
  std::optional<PsiMetrics> psi_io;

  bool operator==(const CpuResourceMetrics&) const = default;
};

enum class GpuVendor : uint8_t { kUnknown = 0, kNvidia = 1, kAmd = 2, kIntel = 3 };

struct GpuProcessMemory {
  uint32_t pid = 0;
  std::optional<uint64_t> used_bytes;

  bool operator==(const GpuProcessMemory&) const = default;
};

struct GpuResourceMetrics {
  std::string device_name;
  GpuVendor vendor = GpuVendor::kUnknown;
  std::optional<double> compute_usage_percent;
  std::optional<double> memory_usage_percent;  // used / total
  std::optional<uint64_t> memory_used_bytes;
  std::optional<uint64_t> memory_total_bytes;
  std::optional<double> temperature_celsius;
  std::optional<double> power_usage_watts;
  std::optional<double> frequency_mhz;      // shader / graphics clock
  std::vector<GpuProcessMemory> processes;  // NVML only; refreshed at most once per second

  bool operator==(const GpuResourceMetrics&) const = default;
};

struct DiskIoMetrics {
  std::string device;  // whole disks only: partitions and stacked devices are skipped
  std::optional<double> read_bytes_per_sec;
  std::optional<double> write_bytes_per_sec;
  std::optional<double> read_ops_per_sec;
  std::optional<double> write_ops_per_sec;

  bool operator==(const DiskIoMetrics&) const = default;
};

struct NetworkIoMetrics {
  std::string interface;  // "lo" is never listed
  std::optional<double> rx_bytes_per_sec;
  std::optional<double> tx_bytes_per_sec;
  std::optional<double> rx_packets_per_sec;
  std::optional<double> tx_packets_per_sec;

  bool operator==(const NetworkIoMetrics&) const = default;
};

struct IoResourceMetrics {
  std::vector<DiskIoMetrics> disks;
  std::vector<NetworkIoMetrics> networks;
  // The process's storage IO (/proc/<pid>/io read_bytes / write_bytes), cumulative and per second.
  std::optional<uint64_t> process_read_bytes;
  std::optional<uint64_t> process_write_bytes;
  std::optional<double> process_read_bytes_per_sec;
  std::optional<double> process_write_bytes_per_sec;

  bool operator==(const IoResourceMetrics&) const = default;
};

struct MemoryResourceMetrics {
  std::optional<uint64_t> process_rss_bytes;
  std::optional<uint64_t> process_virtual_bytes;
  std::optional<uint64_t> process_minor_faults;  // cumulative
  std::optional<uint64_t> process_major_faults;
  std::optional<uint64_t> machine_available_bytes;
  std::optional<uint64_t> machine_total_bytes;

  bool operator==(const MemoryResourceMetrics&) const = default;
};

struct CgroupResourceMetrics {
  uint8_t version = 0;                    // 0: no cgroup found, 1 or 2
  std::string path;                       // the process's cgroup, relative to the hierarchy's mount
  std::optional<double> cpu_quota_cores;  // tightest quota of the cgroup and its ancestors
  std::optional<uint64_t> cpu_periods;
  std::optional<uint64_t> cpu_throttled_periods;
  std::optional<uint64_t> cpu_throttled_usec;
  std::optional<uint64_t> memory_limit_bytes;  // tightest limit; empty when unlimited
  std::optional<uint64_t> memory_usage_bytes;

  bool operator==(const CgroupResourceMetrics&) const = default;
};

struct ThreadResourceMetrics {
  int32_t thread_id = 0;
  std::string thread_name;
  std::optional<uint64_t> cpu_time_user_ns;    // from clock ticks, 1/_SC_CLK_TCK resolution
  std::optional<uint64_t> cpu_time_kernel_ns;  // from clock ticks
  std::optional<uint64_t> cpu_time_total_ns;   // schedstat: nanosecond resolution
  std::optional<double> cpu_usage_percent;     // 100 = one core
  std::optional<uint64_t> run_queue_wait_ns;   // cumulative, schedstat
  std::optional<uint64_t> voluntary_context_switches;
  std::optional<uint64_t> involuntary_context_switches;
  std::optional<uint64_t> io_read_bytes;  // cumulative storage bytes
  std::optional<uint64_t> io_write_bytes;
  std::optional<uint64_t> live_heap_bytes;  // filled by the agent, never by the collector
  std::optional<uint64_t> minor_faults;     // cumulative, task stat (minflt)
  std::optional<uint64_t> major_faults;     // cumulative, task stat (majflt)
  // Time the thread spent waiting on memscope itself (its ring full, the fork gate, flush
  // requests), cumulative. Filled by the agent, never by the collector.
  std::optional<uint64_t> profiler_wait_ns;

  bool operator==(const ThreadResourceMetrics&) const = default;
};

struct PlatformMetrics {
  uint64_t timestamp_ns = 0;            // CLOCK_MONOTONIC
  std::optional<uint64_t> interval_ns;  // actual time since the previous sample (or baseline)
  CpuResourceMetrics cpu;
  std::optional<std::vector<GpuResourceMetrics>> gpu;  // empty optional: no GPU found
  IoResourceMetrics io;
  MemoryResourceMetrics memory;
  CgroupResourceMetrics cgroup;
  std::optional<uint32_t> thread_count;  // /proc/<pid>/status Threads:, also without per_thread
  std::vector<ThreadResourceMetrics> threads;
  std::vector<std::string> errors;  // "path:line: what", for files that exist but did not parse

  bool operator==(const PlatformMetrics&) const = default;
};

// Which sources this machine has, found once when the collector is built.
struct CollectorCapabilities {
  bool proc_stat = false;
  bool cpufreq = false;
  bool cpuinfo_frequency = false;
  bool thermal_zones = false;
  bool hwmon = false;
  bool psi = false;
  uint8_t cgroup_version = 0;
  bool schedstat = false;
  bool process_io = false;
  bool diskstats = false;
  bool net_dev = false;
  bool nvml = false;
  bool amd_gpu = false;
  bool intel_gpu = false;
  std::string nvml_status;  // why NVML is unavailable ("libnvidia-ml.so.1: cannot open ...")
};

struct CollectorOptions {
  std::string root = "/";  // fixture trees replace the machine's /proc and /sys in tests
  pid_t pid = 0;           // 0: the calling process
  std::chrono::milliseconds interval{100};
  std::chrono::milliseconds max_interval{1000};
  uint32_t many_threads = 64;  // above this thread count the interval backs off
  bool per_thread = true;
  bool gpu = true;
  std::string nvml_library = "libnvidia-ml.so.1";
  std::chrono::milliseconds slow_source_period{1000};  // cpufreq and NVML process lists
  std::function<uint64_t()> clock;  // monotonic ns; default CLOCK_MONOTONIC (tests inject one)
};

// The platform-specific sampler behind PlatformResourceCollector (Linux today, macOS later).
class CollectorBackend {
 public:
  virtual ~CollectorBackend() = default;
  virtual const CollectorCapabilities& capabilities() const = 0;
  // Fills everything but timestamp_ns and interval_ns, which the caller sets first;
  // interval_ns 0 is the baseline reading (no rates).
  virtual void sample(PlatformMetrics& out, uint64_t interval_ns) = 0;
};

std::unique_ptr<CollectorBackend> make_platform_backend(const CollectorOptions& options);

class PlatformResourceCollector {
 public:
  explicit PlatformResourceCollector(CollectorOptions options = {});
  ~PlatformResourceCollector();
  PlatformResourceCollector(const PlatformResourceCollector&) = delete;
  PlatformResourceCollector& operator=(const PlatformResourceCollector&) = delete;

  // Never throws for missing or unreadable sources: those fields stay empty and parse
  // failures are listed in PlatformMetrics::errors.
  PlatformMetrics collect_metrics();
  // The same into `out`, which is overwritten; its lists keep their storage, so a caller that
  // samples in a loop with one PlatformMetrics does not allocate in the steady state.
  void collect_metrics(PlatformMetrics& out);
  // The interval to wait before the next collect_metrics(), from the last sample (see
  // docs/collector.md "Adaptive interval").
  std::chrono::milliseconds get_optimal_collection_interval() const;
  const CollectorCapabilities& capabilities() const;

 private:
  CollectorOptions options_;
  std::unique_ptr<CollectorBackend> backend_;
  uint64_t last_ns_ = 0;
  std::chrono::milliseconds next_interval_;
};

// The adaptive rule on its own, for tests and for callers that sample elsewhere.
std::chrono::milliseconds adaptive_interval(const PlatformMetrics& last,
                                            const CollectorOptions& options);

}  // namespace memscope
