// Linux disk and network rates; see system_io_reader.hpp.
#include "collector/linux/system_io_reader.hpp"

#include "collector/linux/rates.hpp"

namespace memscope::collector {
namespace {

constexpr uint64_t kSectorBytes = 512;  // diskstats counts 512-byte sectors on every device

bool parse_u64_fields(Fields& fields, uint64_t* out, int count) {
  std::string_view field;
  for (int i = 0; i < count; ++i) {
    if (!fields.next(field)) return false;
    auto value = parse_number<uint64_t>(field);
    if (!value) return false;
    out[i] = *value;
  }
  return true;
}

}  // namespace

SystemIoReader::SystemIoReader(const std::string& root, CollectorCapabilities& caps)
    : sys_block_(join_path(root, "sys/block")),
      diskstats_(join_path(root, "proc/diskstats")),
      net_dev_(join_path(root, "proc/net/dev")) {
  have_sys_block_ = path_exists(sys_block_);
  caps.diskstats = path_exists(diskstats_.path());
  caps.net_dev = path_exists(net_dev_.path());
}

// Whole disks only, so nothing is counted twice: partitions are absent from /sys/block, stacked
// devices (dm, md) have slaves, and loop and ram devices re-count IO of other devices or none.
bool SystemIoReader::counted_disk(std::string_view name) {
  auto it = disk_counted_.find(std::string(name));
  if (it != disk_counted_.end()) return it->second;
  bool counted = name.rfind("loop", 0) != 0 && name.rfind("ram", 0) != 0;
  if (counted && have_sys_block_) {
    std::string dir = sys_block_ + "/" + std::string(name);
    counted = path_exists(dir) && list_directory(dir + "/slaves").empty();
  }
  disk_counted_.emplace(std::string(name), counted);
  return counted;
}

void SystemIoReader::sample(IoResourceMetrics& out, uint64_t interval_ns,
                            std::vector<std::string>& errors) {
  read_disks(out, interval_ns, errors);
  read_networks(out, interval_ns, errors);
}

void SystemIoReader::read_disks(IoResourceMetrics& out, uint64_t interval_ns,
                                std::vector<std::string>& errors) {
  auto text = diskstats_.read();
  if (!text) return;
  LineReader lines(*text);
  std::string_view line, name;
  while (lines.next(line)) {
    // major minor name, then 11 (4.18-), 15 (4.18+) or 17 (5.5+) counters; the first 7 suffice.
    Fields fields(line);
    uint64_t c[7];
    if (!fields.skip(2) || !fields.next(name) || !parse_u64_fields(fields, c, 7)) {
      if (!trim(line).empty()) {
        errors.push_back(parse_error(diskstats_.path(), lines.line_number(), "bad disk line"));
      }
      continue;
    }
    if (!counted_disk(name)) continue;
    Counters now{c[0], c[2], c[4], c[6]};
    auto [it, inserted] = disk_prev_.try_emplace(std::string(name), now);
    if (!inserted) {
      const Counters& p = it->second;
      DiskIoMetrics disk;
      disk.device.assign(name);
      disk.read_ops_per_sec = per_second(p.a, now.a, interval_ns);
      disk.read_bytes_per_sec = per_second(p.b * kSectorBytes, now.b * kSectorBytes, interval_ns);
      disk.write_ops_per_sec = per_second(p.c, now.c, interval_ns);
      disk.write_bytes_per_sec = per_second(p.d * kSectorBytes, now.d * kSectorBytes, interval_ns);
      if (interval_ns > 0) out.disks.push_back(std::move(disk));
      it->second = now;
    }
  }
}

void SystemIoReader::read_networks(IoResourceMetrics& out, uint64_t interval_ns,
                                   std::vector<std::string>& errors) {
  auto text = net_dev_.read();
  if (!text) return;
  LineReader lines(*text);
  std::string_view line, name;
  while (lines.next(line)) {
    size_t colon = line.find(':');
    if (lines.line_number() <= 2 || colon == std::string_view::npos) continue;  // headers
    name = trim(line.substr(0, colon));
    if (name == "lo") continue;  // loopback traffic is not the machine's network traffic
    // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets ...
    Fields fields(line.substr(colon + 1));
    uint64_t c[10];
    if (!parse_u64_fields(fields, c, 10)) {
      errors.push_back(parse_error(net_dev_.path(), lines.line_number(), "bad interface line"));
      continue;
    }
    Counters now{c[0], c[1], c[8], c[9]};
    auto [it, inserted] = net_prev_.try_emplace(std::string(name), now);
    if (inserted) continue;
    const Counters& p = it->second;
    NetworkIoMetrics net;
    net.interface.assign(name);
    net.rx_bytes_per_sec = per_second(p.a, now.a, interval_ns);
    net.rx_packets_per_sec = per_second(p.b, now.b, interval_ns);
    net.tx_bytes_per_sec = per_second(p.c, now.c, interval_ns);
    net.tx_packets_per_sec = per_second(p.d, now.d, interval_ns);
    if (interval_ns > 0) out.networks.push_back(std::move(net));
    it->second = now;
  }
}

}  // namespace memscope::collector
