// Machine-wide IO for the Linux backend: per-disk rates from /proc/diskstats and per-interface
// rates from /proc/net/dev.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "collector/linux/proc_file.hpp"
#include "memscope/collector.hpp"

namespace memscope::collector {

class SystemIoReader {
 public:
  SystemIoReader(const std::string& root, CollectorCapabilities& caps);
  void sample(IoResourceMetrics& out, uint64_t interval_ns, std::vector<std::string>& errors);

 private:
  struct Counters {
    uint64_t a = 0, b = 0, c = 0, d = 0;  // disks: rd ops, rd sectors, wr ops, wr sectors
  };                                      // interfaces: rx bytes, rx packets, tx bytes, tx pkts

  void read_disks(IoResourceMetrics& out, uint64_t interval_ns, std::vector<std::string>& errors);
  void read_networks(IoResourceMetrics& out, uint64_t interval_ns,
                     std::vector<std::string>& errors);
  bool counted_disk(std::string_view name);

  std::string sys_block_;
  bool have_sys_block_ = false;
  ProcFile diskstats_, net_dev_;
  std::unordered_map<std::string, Counters> disk_prev_, net_prev_;
  std::unordered_map<std::string, bool> disk_counted_;  // decided once per device name
};

}  // namespace memscope::collector
