// The process's own cgroup for the Linux backend (v2, or v1 where the machine has that): CPU
// quota in cores, throttling, memory limit and usage, so a process limited to 2 cores is never
// described by the machine's 64.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "collector/linux/proc_file.hpp"
#include "memscope/collector.hpp"

namespace memscope::collector {

class CgroupReader {
 public:
  // The limits (quota and memory limit of the cgroup and each ancestor) change only when
  // someone reconfigures the cgroup: they are read at most once per slow period and kept in
  // between; usage and throttling are read every sample.
  CgroupReader(const std::string& root, pid_t pid, uint64_t slow_period_ns,
               CollectorCapabilities& caps);
  void sample(CgroupResourceMetrics& out, uint64_t now_ns, std::vector<std::string>& errors);

 private:
  // Limit files of the cgroup and of each ancestor: the tightest limit applies.
  struct Level {
    ProcFile cpu_quota;   // v2 cpu.max; v1 cpu.cfs_quota_us
    ProcFile cpu_period;  // v1 cpu.cfs_period_us
    ProcFile memory_limit;
  };

  void discover_v2(const std::string& mount, std::string_view path);
  void discover_v1(const std::string& cgroup_root, std::string_view cpu_entry,
                   std::string_view cpu_path, std::string_view memory_path);
  std::optional<double> level_quota_cores(Level& level, std::vector<std::string>& errors);
  void read_limits(std::vector<std::string>& errors);
  void read_cpu_stat(CgroupResourceMetrics& out);

  uint8_t version_ = 0;
  std::string path_;
  std::vector<Level> cpu_levels_, memory_levels_;
  ProcFile cpu_stat_, memory_usage_;
  uint64_t slow_period_ns_ = 0, limits_read_ns_ = 0;
  bool limits_read_ = false;
  std::optional<double> cpu_quota_cores_;
  std::optional<uint64_t> memory_limit_bytes_;
};

}  // namespace memscope::collector
