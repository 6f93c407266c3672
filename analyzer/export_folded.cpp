// See export_folded.hpp.
#include "analyzer/export_folded.hpp"

#include <map>

namespace memscope::analyzer {
namespace {

uint64_t weight_of(const SiteStats& s, FoldedWeight w) {
  switch (w) {
    case FoldedWeight::kBytes:
      return s.counts.allocated_bytes;
    case FoldedWeight::kCount:
      return s.counts.allocations;
    case FoldedWeight::kLeaked:
      return s.live_bytes;
    case FoldedWeight::kPeak:
      return s.peak_bytes;
  }
  return 0;
}

std::string base_name(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Sites without frames still carry weight: they get one frame saying why (as the text report
// says it), so the flame graph's total equals the report's.
std::string stackless_frame(const SiteView& site) {
  return site.stats->stack_id == kInheritedStack ? "[inherited at fork]" : "[no stack recorded]";
}

std::string folded_stack(const std::string& root, const SiteView& site) {
  std::string line = folded_frame_name(root);
  auto append = [&line](const std::string& name) {
    if (!line.empty()) line += ';';
    line += folded_frame_name(name);
  };
  if (!site.has_stack()) append(stackless_frame(site));
  // The stack is innermost first; folded stacks start at the root.
  std::vector<const Frame*> stack = site.frames();
  for (auto it = stack.rbegin(); it != stack.rend(); ++it) append(frame_name(**it));
  return line;
}

}  // namespace

std::optional<FoldedWeight> parse_folded_weight(const std::string& name) {
  if (name == "bytes") return FoldedWeight::kBytes;
  if (name == "count") return FoldedWeight::kCount;
  if (name == "leaked") return FoldedWeight::kLeaked;
  if (name == "peak") return FoldedWeight::kPeak;
  return std::nullopt;
}

std::string folded_frame_name(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    if (c == ';') c = ',';
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

void write_folded(const HeapReport& heap, FoldedWeight weight, std::ostream& out) {
  std::map<std::string, uint64_t> stacks;  // sorted, and equal stacks of several sites merged
  bool several = heap.processes.size() > 1;
  for (const ProcessHeapView& v : heap.processes) {
    const ProcessInfo& info = v.process->analysis->info();
    std::string root =
        several ? base_name(info.exe) + " (pid " + std::to_string(info.pid) + ")" : std::string();
    for (const SiteView& site : v.sites) {
      uint64_t w = weight_of(*site.stats, weight);
      if (w != 0) stacks[folded_stack(root, site)] += w;
    }
  }
  for (const auto& [stack, w] : stacks) out << stack << ' ' << w << '\n';
}

}  // namespace memscope::analyzer
