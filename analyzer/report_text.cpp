// See report_text.hpp. Frames are shown as module+offset until symbolization is added.
#include "analyzer/report_text.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "analyzer/insights/insights_report.hpp"
#include "analyzer/summary.hpp"

namespace memscope::analyzer {
namespace {

std::string bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
  return buf;
}

std::string frame(const ProcessAnalysis& p, uint64_t pc) {
  const ModuleInfo* best = nullptr;
  for (const ModuleInfo& m : p.modules())
    if (m.loaded && pc >= m.base && pc < m.base + m.size && (!best || m.base >= best->base))
      best = &m;
  char buf[64];
  if (best == nullptr) {
    std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(pc));
    return buf;
  }
  std::snprintf(buf, sizeof(buf), "+0x%llx", static_cast<unsigned long long>(pc - best->base));
  return std::filesystem::path(best->path).filename().string() + buf;
}

void process_line(const TracedProcess& tp, std::ostream& out) {
  const ProcessAnalysis& p = *tp.analysis;
  Summary s = summarize(p);
  out << "process " << p.info().pid << " (" << origin_name(tp.origin);
  if (tp.parent) out << " of " << tp.parent->analysis->info().pid;
  out << ") " << std::filesystem::path(p.info().exe).filename().string() << ": "
      << s.total_allocations << " allocations, " << s.total_frees << " frees, "
      << bytes(s.total_allocated_bytes) << " allocated, peak " << bytes(s.peak_heap_bytes)
      << ", leaked " << bytes(s.leaked_bytes) << " in " << s.leaked_allocations << " blocks, "
      << s.threads << " threads, ended: " << describe_end(p) << "\n";
  if (s.dropped_events) out << "  WARNING: " << s.dropped_events << " events were dropped\n";
  if (!p.read_result().complete) out << "  PARTIAL: " << p.read_result().error << "\n";
}

void top_sites(const ProcessAnalysis& p, std::ostream& out, size_t top) {
  std::vector<std::pair<uint64_t, Counters>> sites(p.heap().per_site().begin(),
                                                   p.heap().per_site().end());
  std::sort(sites.begin(), sites.end(), [](const auto& a, const auto& b) {
    return a.second.allocated_bytes > b.second.allocated_bytes;
  });
  if (sites.size() > top) sites.resize(top);
  if (sites.empty()) return;
  out << "  top allocation sites by bytes:\n";
  for (const auto& [id, c] : sites) {
    out << "    " << bytes(c.allocated_bytes) << " in " << c.allocations << " allocations ("
        << c.allocations - c.frees << " not freed)\n";
    auto it = p.stacks().find(id);
    if (it == p.stacks().end()) {
      out << "      (no stack recorded)\n";
      continue;
    }
    size_t shown = 0;
    for (uint64_t pc : it->second) {
      if (shown++ == 6) break;
      out << "      " << frame(p, pc) << "\n";
    }
  }
}

}  // namespace

void text_report(const Session& session, std::ostream& out, size_t top) {
  for (const auto& p : session.processes) {
    process_line(*p, out);
    top_sites(*p->analysis, out, top);
    insights::insights_text(*p->analysis, out);
  }
  Summary t = summarize(session);
  out << "total: " << session.processes.size() << " processes, " << t.total_allocations
      << " allocations, " << t.total_frees << " frees, " << bytes(t.total_allocated_bytes)
      << " allocated, largest peak " << bytes(t.peak_heap_bytes) << ", leaked "
      << bytes(t.leaked_bytes) << " in " << t.leaked_allocations << " blocks, " << t.threads
      << " threads, " << t.dropped_events << " dropped events\n";
}

}  // namespace memscope::analyzer
