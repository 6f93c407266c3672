// Linux cgroup readings; see cgroup_reader.hpp.
#include "collector/linux/cgroup_reader.hpp"

#include <algorithm>

namespace memscope::collector {
namespace {

// cgroup v1 reports "no memory limit" as a page-rounded LONG_MAX.
constexpr uint64_t kV1Unlimited = 1ull << 60;

// The directories from the process's cgroup up to the hierarchy's mount, leaf first. A path
// that does not exist under the mount (another cgroup namespace) falls back to the mount.
std::vector<std::string> chain(const std::string& mount, std::string_view path) {
  std::string dir = join_path(mount, path);
  if (!path_exists(dir)) dir = mount;
  while (dir.size() > mount.size() && dir.back() == '/') dir.pop_back();
  std::vector<std::string> dirs;
  while (dir.size() >= mount.size()) {
    dirs.push_back(dir);
    size_t slash = dir.rfind('/');
    if (dir.size() == mount.size() || slash == std::string::npos) break;
    dir.resize(slash);
  }
  return dirs;
}

bool has_controller(std::string_view list, std::string_view controller) {
  Fields names(list, ",");
  std::string_view name;
  while (names.next(name))
    if (name == controller) return true;
  return false;
}

}  // namespace

CgroupReader::CgroupReader(const std::string& root, pid_t pid, uint64_t slow_period_ns,
                           CollectorCapabilities& caps)
    : slow_period_ns_(slow_period_ns) {
  ProcFile membership(join_path(root, "proc/" + std::to_string(pid) + "/cgroup"));
  auto text = membership.read();
  std::string cgroup_root = join_path(root, "sys/fs/cgroup");
  if (!text) return;
  bool unified = path_exists(cgroup_root + "/cgroup.controllers");
  std::string_view v2_path, cpu_entry, cpu_path, memory_path;
  LineReader lines(*text);
  std::string_view line;
  while (lines.next(line)) {
    // "id:controllers:path"; v2 is "0::path".
    size_t first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos) continue;
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    std::string_view path = line.substr(second + 1);
    if (controllers.empty()) v2_path = path;
    if (has_controller(controllers, "cpu")) cpu_entry = controllers, cpu_path = path;
    if (has_controller(controllers, "memory")) memory_path = path;
  }
  if (unified && !v2_path.empty()) {
    discover_v2(cgroup_root, v2_path);
  } else if (!cpu_entry.empty() || !memory_path.empty()) {
    discover_v1(cgroup_root, cpu_entry, cpu_path, memory_path);
  }
  caps.cgroup_version = version_;
}

void CgroupReader::discover_v2(const std::string& mount, std::string_view path) {
  version_ = 2;
  path_ = path;
  std::vector<std::string> dirs = chain(mount, path);
  for (const std::string& dir : dirs) {
    cpu_levels_.push_back({ProcFile(dir + "/cpu.max"), ProcFile(), ProcFile()});
    memory_levels_.push_back({ProcFile(), ProcFile(), ProcFile(dir + "/memory.max")});
  }
  cpu_stat_ = ProcFile(dirs.front() + "/cpu.stat");
  memory_usage_ = ProcFile(dirs.front() + "/memory.current");
}

void CgroupReader::discover_v1(const std::string& cgroup_root, std::string_view cpu_entry,
                               std::string_view cpu_path, std::string_view memory_path) {
  version_ = 1;
  path_ = cpu_path.empty() ? memory_path : cpu_path;
  if (!cpu_entry.empty()) {
    // Mounted as "cpu,cpuacct" on most distributions, with "cpu" as a link; accept either.
    std::string mount = cgroup_root + "/" + std::string(cpu_entry);
    if (!path_exists(mount)) mount = cgroup_root + "/cpu";
    std::vector<std::string> dirs = chain(mount, cpu_path);
    for (const std::string& dir : dirs) {
      cpu_levels_.push_back(
          {ProcFile(dir + "/cpu.cfs_quota_us"), ProcFile(dir + "/cpu.cfs_period_us"), ProcFile()});
    }
    cpu_stat_ = ProcFile(dirs.front() + "/cpu.stat");
  }
  if (!memory_path.empty()) {
    std::vector<std::string> dirs = chain(cgroup_root + "/memory", memory_path);
    for (const std::string& dir : dirs) {
      memory_levels_.push_back({ProcFile(), ProcFile(), ProcFile(dir + "/memory.limit_in_bytes")});
    }
    memory_usage_ = ProcFile(dirs.front() + "/memory.usage_in_bytes");
  }
}

std::optional<double> CgroupReader::level_quota_cores(Level& level,
                                                      std::vector<std::string>& errors) {
  auto text = level.cpu_quota.read();
  if (!text) return std::nullopt;
  Fields fields(*text, "\n");
  std::string_view quota_text, period_text;
  if (!fields.next(quota_text)) return std::nullopt;
  if (quota_text == "max" || quota_text == "-1") return std::nullopt;  // no quota here
  if (version_ == 2) {
    fields.next(period_text);
  } else if (auto period_file = level.cpu_period.read()) {
    period_text = trim(*period_file);
  }
  auto quota = parse_number<uint64_t>(quota_text);
  auto period = parse_number<uint64_t>(period_text);
  if (!quota || !period || *period == 0) {
    errors.push_back(parse_error(level.cpu_quota.path(), 1, "bad cpu quota"));
    return std::nullopt;
  }
  return static_cast<double>(*quota) / static_cast<double>(*period);
}

void CgroupReader::read_cpu_stat(CgroupResourceMetrics& out) {
  auto text = cpu_stat_.read();
  if (!text) return;
  out.cpu_periods = find_key_u64(*text, "nr_periods");
  out.cpu_throttled_periods = find_key_u64(*text, "nr_throttled");
  if (version_ == 2) {
    out.cpu_throttled_usec = find_key_u64(*text, "throttled_usec");
  } else if (auto ns = find_key_u64(*text, "throttled_time")) {
    out.cpu_throttled_usec = *ns / 1000;
  }
}

void CgroupReader::read_limits(std::vector<std::string>& errors) {
  cpu_quota_cores_.reset();
  memory_limit_bytes_.reset();
  for (Level& level : cpu_levels_) {
    auto cores = level_quota_cores(level, errors);
    if (cores) cpu_quota_cores_ = std::min(cpu_quota_cores_.value_or(*cores), *cores);
  }
  for (Level& level : memory_levels_) {
    auto text = level.memory_limit.read();
    auto limit = text ? parse_number<uint64_t>(*text) : std::nullopt;  // "max" parses as none
    if (!limit || (version_ == 1 && *limit >= kV1Unlimited)) continue;
    memory_limit_bytes_ = std::min(memory_limit_bytes_.value_or(*limit), *limit);
  }
}

void CgroupReader::sample(CgroupResourceMetrics& out, uint64_t now_ns,
                          std::vector<std::string>& errors) {
  out.version = version_;
  out.path = path_;
  if (version_ == 0) return;
  if (!limits_read_ || now_ns - limits_read_ns_ >= slow_period_ns_) {
    read_limits(errors);
    limits_read_ = true;
    limits_read_ns_ = now_ns;
  }
  out.cpu_quota_cores = cpu_quota_cores_;
  out.memory_limit_bytes = memory_limit_bytes_;
  read_cpu_stat(out);
  if (auto text = memory_usage_.read()) out.memory_usage_bytes = parse_number<uint64_t>(*text);
}

}  // namespace memscope::collector
