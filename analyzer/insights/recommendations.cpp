// See recommendations.hpp. Each recommender checks its figures against a threshold (the same
// constants the bottleneck rules use where they overlap) and stays silent below it.
#include "analyzer/insights/recommendations.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <unordered_map>

#include "analyzer/symbolizer.hpp"

namespace memscope::analyzer::insights {
namespace {

namespace th = threshold;

// allocation_churn: the process enters the allocator at a fifth of the MemoryBound rate per CPU
// second, and its busiest site allocates at least this often per second of the process's life
// (below it, pooling would save under a millisecond a second at ~50 ns per malloc/free pair).
constexpr double kChurnHeapOpsPerCpuSecond = th::kHeapOpsPerCpuSecond / 5;
constexpr double kChurnSiteAllocationsPerSec = 20'000;

std::string fmt(const char* f, double a, double b = 0, double c = 0) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), f, a, b, c);
  return buf;
}

const ModuleInfo* module_of(const ProcessAnalysis& p, uint64_t pc) {
  const ModuleInfo* best = nullptr;
  for (const ModuleInfo& m : p.modules())
    if (m.loaded && pc >= m.base && pc < m.base + m.size && (!best || m.base >= best->base))
      best = &m;
  return best;
}

// Frames in memscope itself or in the C/C++ runtime's allocation entry points say nothing
// about the program; the first frame past them is the site worth naming.
bool runtime_frame(const ProcessAnalysis& p, uint64_t pc) {
  const ModuleInfo* m = module_of(p, pc);
  if (!m) return false;
  std::string name = std::filesystem::path(m->path).filename().string();
  return name.starts_with("libmemscope") || name.starts_with("libc.so") ||
         name.starts_with("libstdc++");
}

SiteRef site_ref(const ProcessAnalysis& p, const SiteNamer& name_site, uint64_t id,
                 const Counters& c) {
  SiteRef s{id, "(no stack recorded)", c.allocations, c.allocated_bytes, c.frees};
  if (std::string name = name_site ? name_site(id) : std::string(); !name.empty()) {
    s.location = std::move(name);
    return s;
  }
  auto it = p.stacks().find(id);
  if (it == p.stacks().end() || it->second.empty()) return s;
  uint64_t pick = it->second.front();
  for (uint64_t pc : it->second)
    if (!runtime_frame(p, pc)) {
      pick = pc;
      break;
    }
  s.location = frame_location(p, pick);
  return s;
}

double lifetime_s(const ProcessAnalysis& p) {
  const HeapTimeline& tl = p.timeline();
  return static_cast<double>(tl.buckets().size() * tl.bucket_ns()) / 1e9;
}

void allocation_churn(const ProcessAnalysis& p, const ProcessFigures& f, const SiteNamer& names,
                      std::vector<Recommendation>& out) {
  if (!f.heap_ops_per_cpu_second || *f.heap_ops_per_cpu_second < kChurnHeapOpsPerCpuSecond) return;
  const auto& sites = p.heap().per_site();
  auto top = std::max_element(sites.begin(), sites.end(), [](const auto& a, const auto& b) {
    return a.second.allocations < b.second.allocations;
  });
  double life = lifetime_s(p);
  if (top == sites.end() || life <= 0 || top->second.allocations == 0) return;
  SiteRef s = site_ref(p, names, top->first, top->second);
  double rate = static_cast<double>(s.allocations) / life;
  if (rate < kChurnSiteAllocationsPerSec) return;
  double mean = static_cast<double>(s.bytes) / static_cast<double>(s.allocations);
  double freed = 100.0 * static_cast<double>(s.frees) / static_cast<double>(s.allocations);
  Recommendation r{
      "allocation_churn",
      fmt("%.0f allocations/s of %.0f B on average, %.1f%% freed, at ", rate, mean, freed) +
          s.location + ": reuse buffers or pool these objects",
      {{"heap_ops_per_cpu_second", *f.heap_ops_per_cpu_second, kChurnHeapOpsPerCpuSecond, true},
       {"site_allocations_per_sec", rate, kChurnSiteAllocationsPerSec, true}},
      s};
  out.push_back(std::move(r));
}

void leaks(const ProcessAnalysis& p, const SiteNamer& names, std::vector<Recommendation>& out) {
  std::unordered_map<uint64_t, Counters> by_site;
  for (const SiteStats& site : p.heap().sites()) {
    Counters& c = by_site[site.stack_id];
    c.allocations += site.live_allocations;
    c.allocated_bytes += site.live_bytes;
  }
  auto top = std::max_element(by_site.begin(), by_site.end(), [](const auto& a, const auto& b) {
    return a.second.allocated_bytes < b.second.allocated_bytes;
  });
  constexpr double kLeakBytes = 1024 * 1024;  // below this a leak is rarely worth a change
  if (top == by_site.end() || static_cast<double>(top->second.allocated_bytes) < kLeakBytes ||
      top->first == kInheritedStack)
    return;
  SiteRef s = site_ref(p, names, top->first, top->second);
  out.push_back({"leak",
                 fmt("%.0f bytes in %.0f blocks still live at exit, allocated at ", double(s.bytes),
                     double(s.allocations)) +
                     s.location + ": free them or bound the structure holding them",
                 {{"leaked_bytes_at_site", double(s.bytes), kLeakBytes, true}},
                 s});
}

void contention(const ProcessFigures& f, std::vector<Recommendation>& out) {
  if (!f.active_busy_share || !f.active_voluntary_switches_per_sec || f.active_threads < 2) return;
  double blocked = 1.0 - *f.active_busy_share;
  if (blocked < th::kBlockedShare ||
      *f.active_voluntary_switches_per_sec < th::kContentionSwitchesPerThreadSec)
    return;
  out.push_back({"lock_contention",
                 fmt("%.0f working threads were blocked %.0f%% of the time they were not queued "
                     "for a CPU, with %.0f voluntary context switches/s each: shorten or split "
                     "the contended lock, or do more work per acquisition",
                     double(f.active_threads), 100 * blocked, *f.active_voluntary_switches_per_sec),
                 {{"blocked_share", blocked, th::kBlockedShare, true},
                  {"active_voluntary_switches_per_sec", *f.active_voluntary_switches_per_sec,
                   th::kContentionSwitchesPerThreadSec, true}},
                 std::nullopt});
}

void cpu_saturation(const ProcessFigures& f, std::vector<Recommendation>& out) {
  constexpr double kWaitShare = 0.2;
  if (f.run_queue_wait_share && *f.run_queue_wait_share >= kWaitShare && f.usable_cores)
    out.push_back({"cpu_saturation",
                   fmt("runnable threads waited for a CPU %.0f%% of their time with %.2f usable "
                       "cores: run no more busy threads than cores, or give the program more",
                       100 * *f.run_queue_wait_share, *f.usable_cores),
                   {{"run_queue_wait_share", *f.run_queue_wait_share, kWaitShare, true}},
                   std::nullopt});
  constexpr double kThrottled = 5;
  if (f.cgroup_throttled_percent && *f.cgroup_throttled_percent >= kThrottled)
    out.push_back({"cpu_throttling",
                   fmt("the cgroup was CPU-throttled %.1f%% of the time (quota %.2f cores): "
                       "raise the quota or use fewer threads",
                       *f.cgroup_throttled_percent, f.cpu_quota_cores.value_or(0)),
                   {{"cgroup_throttled_percent", *f.cgroup_throttled_percent, kThrottled, true}},
                   std::nullopt});
}

void io_stalls(const ProcessFigures& f, std::vector<Recommendation>& out) {
  std::optional<double> stall = f.psi_io_some_percent ? f.psi_io_some_percent : f.iowait_percent;
  if (!f.process_io_bytes_per_sec || !stall || *f.process_io_bytes_per_sec < th::kIoBytesPerSec ||
      *stall < th::kIoStallPercent || !f.active_busy_share ||
      1.0 - *f.active_busy_share < th::kBlockedShare)
    return;  // IO that does not keep the working threads waiting needs no batching
  out.push_back(
      {"io_stalls",
       fmt("%.1f MiB/s of storage IO while tasks stalled on IO %.0f%% of the time: "
           "batch synchronous writes (fewer fsyncs) or move IO off the busy threads",
           *f.process_io_bytes_per_sec / (1024 * 1024), *stall),
       {{"process_io_bytes_per_sec", *f.process_io_bytes_per_sec, th::kIoBytesPerSec, true},
        {f.psi_io_some_percent ? "psi_io_some_percent" : "iowait_percent", *stall,
         th::kIoStallPercent, true},
        {"blocked_share", 1.0 - *f.active_busy_share, th::kBlockedShare, true}},
       std::nullopt});
}

void page_faults(const ProcessFigures& f, std::vector<Recommendation>& out) {
  if (!f.minor_faults_per_cpu_second || !f.system_cpu_share ||
      *f.minor_faults_per_cpu_second < th::kMinorFaultsPerCpuSecond ||
      *f.system_cpu_share < th::kSystemCpuShare)
    return;
  out.push_back(
      {"page_faults",
       fmt("%.0f minor page faults per CPU second, %.0f%% of the CPU in the kernel: memory is "
           "touched fresh again and again; reuse large buffers instead of freeing and "
           "allocating them (freed large blocks go back to the kernel)",
           *f.minor_faults_per_cpu_second, 100 * *f.system_cpu_share),
       {{"minor_faults_per_cpu_second", *f.minor_faults_per_cpu_second,
         th::kMinorFaultsPerCpuSecond, true},
        {"system_cpu_share", *f.system_cpu_share, th::kSystemCpuShare, true}},
       std::nullopt});
}

void memory_pressure(const ProcessFigures& f, std::vector<Recommendation>& out) {
  if (f.major_faults_per_sec && *f.major_faults_per_sec >= th::kMajorFaultsPerSec)
    out.push_back(
        {"major_faults",
         fmt("%.0f major page faults/s: the working set does not fit in memory",
             *f.major_faults_per_sec),
         {{"major_faults_per_sec", *f.major_faults_per_sec, th::kMajorFaultsPerSec, true}},
         std::nullopt});
  if (f.rss_bytes_max && f.memory_limit_bytes && *f.rss_bytes_max >= 0.9 * *f.memory_limit_bytes)
    out.push_back(
        {"memory_limit",
         fmt("peak RSS %.0f MiB reached %.0f%% of the cgroup memory limit",
             *f.rss_bytes_max / (1024 * 1024), 100 * *f.rss_bytes_max / *f.memory_limit_bytes),
         {{"rss_share_of_memory_limit", *f.rss_bytes_max / *f.memory_limit_bytes, 0.9, true}},
         std::nullopt});
}

}  // namespace

std::string frame_location(const ProcessAnalysis& p, uint64_t pc) {
  const ModuleInfo* m = module_of(p, pc);
  if (!m) return hex_text(pc);
  return std::filesystem::path(m->path).filename().string() + "+" + hex_text(pc - m->base);
}

std::vector<Recommendation> recommend(const ProcessAnalysis& p, const ProcessFigures& f,
                                      const SiteNamer& name_site) {
  std::vector<Recommendation> out;
  allocation_churn(p, f, name_site, out);
  leaks(p, name_site, out);
  contention(f, out);
  cpu_saturation(f, out);
  io_stalls(f, out);
  page_faults(f, out);
  memory_pressure(f, out);
  return out;
}

}  // namespace memscope::analyzer::insights
