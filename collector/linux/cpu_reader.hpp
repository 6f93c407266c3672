// Machine-wide CPU readings for the Linux backend: /proc/stat usage split and counters,
// /proc/loadavg, /proc/pressure, per-core frequency (cpufreq, else /proc/cpuinfo) and labelled
// temperatures (thermal zones and hwmon).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "collector/linux/proc_file.hpp"
#include "memscope/collector.hpp"

namespace memscope::collector {

// Counters of one "cpu" line of /proc/stat, in clock ticks.
struct CpuTicks {
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  bool valid = false;
};

struct PsiCounters {
  uint64_t some_total_us = 0, full_total_us = 0;
  bool some_valid = false, full_valid = false;
};

struct TemperatureSource {
  std::string label;
  ProcFile input;  // millidegrees Celsius
};

class CpuReader {
 public:
  CpuReader(const std::string& root, uint64_t slow_period_ns, CollectorCapabilities& caps);
  void sample(CpuResourceMetrics& out, uint64_t now_ns, uint64_t interval_ns,
              std::vector<std::string>& errors);

 private:
  void read_stat(CpuResourceMetrics& out, uint64_t interval_ns, std::vector<std::string>& errors);
  void read_loadavg(CpuResourceMetrics& out, std::vector<std::string>& errors);
  void read_psi(CpuResourceMetrics& out, uint64_t interval_ns, std::vector<std::string>& errors);
  void read_frequencies(uint64_t now_ns);
  void read_cpuinfo_frequencies();
  void read_temperatures(CpuResourceMetrics& out);
  void discover_temperatures(const std::string& root, CollectorCapabilities& caps);

  ProcFile stat_, loadavg_, cpuinfo_;
  ProcFile psi_[3];
  PsiCounters psi_prev_[3];
  CpuTicks total_prev_;
  std::vector<CpuTicks> core_prev_;
  uint64_t ctxt_prev_ = 0, intr_prev_ = 0;
  bool counters_valid_ = false;
  std::vector<ProcFile> cpufreq_;  // indexed by core; empty path where the core has none
  bool use_cpufreq_ = false;
  std::vector<std::optional<double>> frequency_mhz_;
  uint64_t slow_period_ns_;
  uint64_t frequency_read_ns_ = 0;
  bool frequency_read_once_ = false;
  std::vector<TemperatureSource> temperatures_;
};

}  // namespace memscope::collector
