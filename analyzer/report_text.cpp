// See report_text.hpp.
#include "analyzer/report_text.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "analyzer/insights/insights_report.hpp"
#include "analyzer/leak_kinds.hpp"
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

// " [low - high]": a sampled trace's 95 % interval of an estimated byte figure.
std::string interval(const Estimate& e) {
  return " [" + bytes(static_cast<uint64_t>(e.low())) + " - " +
         bytes(static_cast<uint64_t>(e.high())) + "]";
}

// What a sampled trace's figures are: which are exact, which estimated.
void sampling_line(const HeapEstimates& e, std::ostream& out) {
  out << "  SAMPLED (one byte in " << e.sampling.mean_bytes << " on average, seed "
      << e.sampling.seed << "): sampled: estimates. ";
  if (e.sampling.phase == 1)
    out << "Allocations, frees and bytes allocated are exact; per-site";
  else
    out << "No end recorded, so every figure is estimated: totals,";
  out << " figures, the live heap, peak and leaks are estimates (~) with their 95 % interval "
         "[low - high]; a site not listed allocated less than "
      << bytes(static_cast<uint64_t>(2.995732 * static_cast<double>(e.sampling.mean_bytes)))
      << " (95 %)\n";
}

std::string seconds(uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f s", static_cast<double>(ns) / 1e9);
  return buf;
}

// "definitely lost 100 B in 1 block, ..." for the kinds that have blocks ("none" if none).
std::string kinds_text(const format::KindCounts& kinds) {
  static constexpr const char* kWords[format::kLeakKinds] = {"definitely lost", "indirectly lost",
                                                             "possibly lost", "still reachable"};
  std::string out;
  for (size_t k = 0; k < format::kLeakKinds; ++k) {
    if (kinds[k].blocks == 0) continue;
    if (!out.empty()) out += ", ";
    out += std::string(kWords[k]) + " " + bytes(kinds[k].bytes) + " in " +
           std::to_string(kinds[k].blocks) + (kinds[k].blocks == 1 ? " block" : " blocks");
  }
  return out.empty() ? "nothing live" : out;
}

// The kinds of the unsuppressed blocks, or why they are unknown.
void leak_check_line(const ProcessAnalysis& p, const std::optional<format::KindCounts>& kinds,
                     std::ostream& out) {
  out << "  leak check: "
      << (kinds                   ? kinds_text(*kinds)
          : process_leak_kinds(p) ? "kinds unknown once suppressed (the scan recorded no sites)"
                                  : leak_check_status(p));
  if (const format::LeakScanRecord* scan = p.leak_scan())
    out << "; runtime buffers freed at exit: " << freeres_outcome(scan->freeres);
  out << "\n";
}

std::string located(const Frame& f) {
  std::string s = frame_name(f);
  if (!f.file.empty())
    s += " (" + std::filesystem::path(f.file).filename().string() + ":" + std::to_string(f.line) +
         ")";
  if (f.inlined) s += " [inlined]";
  return s;
}

// ", N B suppressed in M blocks" when a suppression matched.
std::string suppressed_text(const format::KindCount& suppressed) {
  if (suppressed.blocks == 0) return {};
  return ", " + bytes(suppressed.bytes) + " suppressed in " + std::to_string(suppressed.blocks) +
         " blocks";
}

// The blocks an exec discarded with the image it replaced: not leaked, so named apart.
std::string discarded_text(const Summary& s) {
  if (s.discarded_by_exec_allocations == 0) return {};
  return ", " + bytes(s.discarded_by_exec_bytes) + " in " +
         std::to_string(s.discarded_by_exec_allocations) + " blocks discarded by exec";
}

void process_line(const TracedProcess& tp, const Summary& s, std::ostream& out) {
  const ProcessAnalysis& p = *tp.analysis;
  // Named by what it runs; how it started and its executable (a symlink's target) beside it.
  out << "process " << p.info().pid << " " << process_name(p.info()) << " ("
      << (tp.origin == Origin::kSpawn ? "spawned" : origin_name(tp.origin));
  if (tp.parent)
    out << (tp.origin == Origin::kSpawn ? " by " : " of ") << tp.parent->analysis->info().pid << " "
        << process_name(tp.parent->analysis->info());
  out << "; executable " << (p.info().exe.empty() ? "unknown" : p.info().exe)
      << "): " << s.total_allocations << " allocations, " << s.total_frees << " frees, "
      << bytes(s.total_allocated_bytes) << " allocated, peak " << bytes(s.peak_heap_bytes)
      << ", leaked " << bytes(s.leaked_bytes) << " in " << s.leaked_allocations << " blocks"
      << suppressed_text(s.suppressed) << discarded_text(s) << ", " << s.threads
      << " threads, ended: " << describe_end(p) << "\n";
  if (s.dropped_events) out << "  WARNING: " << s.dropped_events << " events were dropped\n";
  if (!p.read_result().complete) out << "  PARTIAL: " << p.read_result().error << "\n";
  if (p.estimates()) sampling_line(*p.estimates(), out);
  leak_check_line(p, s.leak_kinds, out);
  const HeapTotals& t = p.heap().totals();
  if (!p.estimates())  // a sampled trace cannot tell: it saw few of each thread's allocations
    out << "  temporary allocations (freed before their thread allocated again): " << t.temporary
        << "\n";
  // A fork child's peak can be what it inherited, stamped at the fork: before its trace began.
  uint64_t start = p.read_result().start_monotonic_ns;
  const HeapEstimates* e = p.estimates();
  if (t.peak_bytes > 0)
    out << "  peak " << (e ? "~" : "") << bytes(t.peak_bytes)
        << (e ? interval(e->peak_bytes) : std::string()) << " in " << t.peak_allocations
        << " blocks at " << (t.peak_stamp < start ? "the fork" : seconds(t.peak_stamp - start))
        << "\n";
  if (e) out << "  live at the end: ~" << bytes(t.live_bytes) << interval(e->live_bytes) << "\n";
}

// The stack down to a few frames beyond the site's function: enough to see who called it.
void stack_lines(const SiteView& site, std::ostream& out) {
  if (site.stats->stack_id == kInheritedStack) {
    out << "      (allocated by the parent before the fork)\n";
    return;
  }
  if (!site.has_stack()) {
    out << "      (no stack recorded)\n";
    return;
  }
  // The allocator's entry, then the program's own frames from the site's function on: the
  // runtime and standard-library frames in between (often a dozen inlined templates) are counted,
  // not printed. The JSON and HTML reports keep every frame.
  std::vector<const Frame*> stack = site.frames();
  size_t function = site.function_depth;
  out << "      " << located(*stack[0]) << "\n";
  if (function > 1)
    out << "      ... " << function - 1 << " library frame" << (function > 2 ? "s" : "")
        << " ...\n";
  size_t last = std::min(stack.size(), function + 4);
  for (size_t i = std::max<size_t>(function, 1); i < last; ++i)
    out << "      " << located(*stack[i]) << "\n";
}

void site_list(const ProcessHeapView& v, const char* title, uint64_t (*key)(const SiteStats&),
               size_t top, std::ostream& out) {
  std::vector<size_t> sites = top_sites(v, key, top);
  if (sites.empty()) return;
  out << "  " << title << ":\n";
  const HeapEstimates* estimates = v.process->analysis->estimates();
  for (size_t i : sites) {
    const SiteStats& s = *v.sites[i].stats;
    const SiteEstimate* e = estimates ? estimates->site(s.stack_id) : nullptr;
    if (e) {
      out << "    ~" << bytes(s.counts.allocated_bytes) << interval(e->allocated_bytes) << " in ~"
          << s.counts.allocations << " allocations, ~" << bytes(s.peak_bytes) << " at peak, ~"
          << bytes(s.live_bytes) << interval(e->live_bytes) << " leaked in ~" << s.live_allocations
          << " blocks\n";
    } else {
      out << "    " << bytes(s.counts.allocated_bytes) << " in " << s.counts.allocations
          << " allocations, " << s.temporary << " temporary, " << bytes(s.peak_bytes)
          << " at peak, " << bytes(s.live_bytes) << " leaked in " << s.live_allocations
          << " blocks\n";
    }
    stack_lines(v.sites[i], out);
  }
}

// The leaking sites (largest first, at most `top`), or the suppressed ones with their rule.
void leak_list(const ProcessHeapView& v, bool suppressed, size_t top, std::ostream& out) {
  std::vector<size_t> sites = leaks_of(v, suppressed);
  if (sites.empty() || top == 0) return;
  if (sites.size() > top) sites.resize(top);
  const ProcessAnalysis& p = *v.process->analysis;
  out << (suppressed ? "  suppressed leaks (not counted as leaked):\n" : "  leaks:\n");
  for (size_t i : sites) {
    const SiteStats& s = *v.sites[i].stats;
    std::optional<format::KindCounts> kinds = site_leak_kinds(p, s.stack_id);
    out << "    " << bytes(s.live_bytes) << (suppressed ? " suppressed" : " leaked") << " in "
        << s.live_allocations << " blocks" << (kinds ? ": " + kinds_text(*kinds) : std::string());
    if (const auto& rule = v.sites[i].suppressed_by)
      out << "; by leak:" << rule->pattern << " (" << rule->origin << ")";
    out << "\n";
    stack_lines(v.sites[i], out);
  }
}

void function_list(const ProcessHeapView& v, size_t top, std::ostream& out) {
  if (v.functions.empty() || top == 0) return;
  out << "  top functions by bytes:\n";
  for (size_t i = 0; i < std::min(top, v.functions.size()); ++i) {
    const FunctionView& f = v.functions[i];
    out << "    " << bytes(f.totals.counts.allocated_bytes) << " in " << f.totals.counts.allocations
        << " allocations from " << f.sites
        << " sites: " << located(*v.sites[f.largest_site].function()) << "\n";
  }
}

// How a thread's end reads: seconds into the trace, starred when it is the process's end.
std::string thread_end(const ProcessAnalysis& p, const ThreadInfo& t) {
  if (t.end_stamp == 0) return "-";
  uint64_t start = p.read_result().start_monotonic_ns;
  return seconds(t.end_stamp > start ? t.end_stamp - start : 0) + (t.end_at_process_end ? "*" : "");
}

void thread_table(const ProcessHeapView& v, std::ostream& out) {
  if (v.threads.empty()) return;
  const ProcessAnalysis& p = *v.process->analysis;
  out << "  threads (known from: agent = memscope saw it start, samples = only listed by the "
         "samples, process = the main thread; * = ended with the process):\n";
  char line[256];
  std::snprintf(line, sizeof(line), "    %-16s %8s %8s %12s %12s %12s %12s %10s %10s %-7s\n",
                "name", "tid", "parent", "allocations", "bytes", "temporary", "live heap", "cpu",
                "ended", "known");
  out << line;
  for (const ThreadView& t : v.threads) {
    std::string parent = t.info->parent_tid ? std::to_string(t.info->parent_tid) : "-";
    std::string cpu = t.cpu_time_ns ? seconds(*t.cpu_time_ns) : "-";
    std::snprintf(
        line, sizeof(line), "    %-16s %8llu %8s %12llu %12s %12llu %12s %10s %10s %-7s\n",
        t.info->name.c_str(), static_cast<unsigned long long>(t.info->tid), parent.c_str(),
        static_cast<unsigned long long>(t.heap.counts.allocations),
        bytes(t.heap.counts.allocated_bytes).c_str(),
        static_cast<unsigned long long>(t.heap.temporary), bytes(t.heap.live_bytes).c_str(),
        cpu.c_str(), thread_end(p, *t.info).c_str(), thread_source_name(t.info->source));
    out << line;
  }
}

}  // namespace

void text_report(const AnalysisReport& report, std::ostream& out, size_t top) {
  for (const ProcessReport& p : report.processes) {
    const ProcessHeapView& v = *p.heap;
    process_line(*p.traced, p.summary, out);
    site_list(v, "top allocation sites by bytes", site_bytes, top, out);
    site_list(v, "top allocation sites by count", site_allocations, top, out);
    site_list(v, "sites holding the peak", site_bytes_at_peak, top, out);
    function_list(v, top, out);
    leak_list(v, false, top, out);
    leak_list(v, true, top, out);
    thread_table(v, out);
    insights::insights_text(p.insights, out);
  }
  const Summary& t = report.summary;
  out << "total: " << report.processes.size() << " processes, " << t.total_allocations
      << " allocations, " << t.total_frees << " frees, " << bytes(t.total_allocated_bytes)
      << " allocated, largest peak " << bytes(t.peak_heap_bytes) << ", leaked "
      << bytes(t.leaked_bytes) << " in " << t.leaked_allocations << " blocks"
      << suppressed_text(t.suppressed) << discarded_text(t) << ", " << t.threads << " threads, "
      << t.dropped_events << " dropped events\n";
  if (t.leak_kinds) out << "total leak check: " << kinds_text(*t.leak_kinds) << "\n";
}

}  // namespace memscope::analyzer
