// See heap_report.hpp.
#include "analyzer/heap_report.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <map>
#include <string_view>
#include <unordered_map>

#include "analyzer/leak_kinds.hpp"

namespace memscope::analyzer {
namespace {

bool runtime_module(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  for (const std::string& r : runtime_module_prefixes())
    if (name.starts_with(r)) return true;
  return false;
}

// Standard-library code compiled into the program (templates instantiated there: vector growth,
// allocators) belongs to the caller. A demangled template function starts with its return type,
// so the qualified name is the last word before the template arguments or parameters.
bool runtime_function(const std::string& name) {
  if (name.starts_with("operator new") || name.starts_with("operator delete")) return true;
  std::string_view head(name);
  head = head.substr(0, head.find_first_of("<("));
  if (size_t space = head.rfind(' '); space != std::string_view::npos)
    head = head.substr(space + 1);
  return head.starts_with("std::") || head.starts_with("__gnu_cxx::") ||
         head.starts_with("__cxxabiv1::");
}

// A program's own allocation wrapper (zmalloc, xmalloc, g_malloc, PyMem_Malloc, xstrdup): it
// names no site, its callers do. Matched by name, case-insensitively: malloc, calloc, realloc or
// strdup in the function's own (unqualified) name.
bool allocator_wrapper(const std::string& function) {
  std::string name = function.substr(0, function.find('('));
  if (size_t colon = name.rfind("::"); colon != std::string::npos) name = name.substr(colon + 2);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* word : {"malloc", "calloc", "realloc", "strdup"})
    if (name.find(word) != std::string::npos) return true;
  return false;
}

// The depth of the site's function in `stack` (innermost first); none for an empty stack.
std::optional<size_t> function_depth(const std::vector<const Frame*>& stack) {
  std::optional<size_t> own;
  for (size_t i = 0; i < stack.size(); ++i) {
    if (runtime_module(stack[i]->module) || runtime_function(stack[i]->function)) continue;
    if (!allocator_wrapper(stack[i]->function)) return i;
    if (!own) own = i;  // a wrapper: its caller, if the stack has one of the program's own
  }
  if (own) return own;
  if (stack.empty()) return std::nullopt;
  return 0;
}

SiteView site_view(const ProcessAnalysis& p, const SiteStats& s, StackTable& table,
                   Symbolizer& symbolizer) {
  SiteView v;
  v.stats = &s;
  v.table = &table;
  auto it = p.stacks().find(s.stack_id);
  if (it == p.stacks().end()) return v;
  v.stack = table.intern(p.modules(), it->second, s.first_stamp, symbolizer);
  std::vector<uint32_t> frames = table.frame_indices_of(v.stack);
  std::vector<const Frame*> stack = table.frames_of(v.stack);
  if (std::optional<size_t> depth = function_depth(stack)) {
    v.function_depth = *depth;
    v.function_frame = frames[*depth];
  }
  return v;
}

void add(SiteStats& total, const SiteStats& s) {
  total.counts.allocations += s.counts.allocations;
  total.counts.frees += s.counts.frees;
  total.counts.allocated_bytes += s.counts.allocated_bytes;
  total.counts.freed_bytes += s.counts.freed_bytes;
  total.temporary += s.temporary;
  total.live_allocations += s.live_allocations;
  total.live_bytes += s.live_bytes;
  total.peak_allocations += s.peak_allocations;
  total.peak_bytes += s.peak_bytes;
  total.sizes.merge(s.sizes);
  total.lifetimes.merge(s.lifetimes);
}

// Sites are sorted largest first, so the first site of a function is its largest.
std::vector<FunctionView> functions(const std::vector<SiteView>& sites) {
  std::map<std::string, FunctionView> by_name;
  for (size_t i = 0; i < sites.size(); ++i) {
    const Frame* f = sites[i].function();
    if (f == nullptr) continue;
    std::string name = frame_name(*f);
    auto [it, added] = by_name.try_emplace(name);
    if (added) {
      it->second.name = name;
      it->second.largest_site = i;
    }
    add(it->second.totals, *sites[i].stats);
    ++it->second.sites;
  }
  std::vector<FunctionView> out;
  for (auto& [name, f] : by_name) out.push_back(std::move(f));
  std::stable_sort(out.begin(), out.end(), [](const FunctionView& a, const FunctionView& b) {
    return a.totals.counts.allocated_bytes > b.totals.counts.allocated_bytes;
  });
  return out;
}

// CPU time is cumulative in every sample: the last sample that listed the thread has the most.
std::optional<uint64_t> cpu_time(const ProcessAnalysis& p, uint64_t tid) {
  const auto& samples = p.metric_samples();
  for (auto s = samples.rbegin(); s != samples.rend(); ++s)
    for (const ThreadResourceMetrics& t : s->threads) {
      if (static_cast<uint64_t>(t.thread_id) != tid) continue;
      if (t.cpu_time_total_ns) return t.cpu_time_total_ns;
      if (t.cpu_time_user_ns && t.cpu_time_kernel_ns)
        return *t.cpu_time_user_ns + *t.cpu_time_kernel_ns;
    }
  return std::nullopt;
}

std::vector<ThreadView> threads(const ProcessAnalysis& p) {
  std::vector<ThreadView> out;
  for (const auto& [tid, info] : p.threads()) {
    ThreadView v;
    v.info = &info;
    auto it = p.heap().threads().find(static_cast<uint32_t>(tid));
    if (it != p.heap().threads().end()) v.heap = it->second;
    // The thread's own reading at its end is exact; else the last sample that listed it.
    v.cpu_time_ns =
        info.cpu_at_end ? std::optional<uint64_t>(info.cpu_at_end->cpu_ns) : cpu_time(p, tid);
    out.push_back(std::move(v));
  }
  return out;
}

// Suppresses the leaking sites a rule matches, and takes their blocks out of the kinds.
LeakVerdict apply_suppressions(const ProcessAnalysis& p, std::vector<SiteView>& sites,
                               const SuppressionList& suppressions) {
  LeakVerdict verdict;
  verdict.kinds = process_leak_kinds(p);
  for (SiteView& site : sites) {
    if (site.stats->live_allocations == 0) continue;
    const SuppressionRule* rule = suppressions.match(site.frames());
    if (rule == nullptr) continue;
    site.suppressed_by = *rule;
    verdict.suppressed.blocks += site.stats->live_allocations;
    verdict.suppressed.bytes += site.stats->live_bytes;
    if (!verdict.kinds) continue;
    std::optional<format::KindCounts> own = site_leak_kinds(p, site.stats->stack_id);
    if (!own) {
      verdict.kinds.reset();  // which kinds its blocks had is not known
      continue;
    }
    for (size_t k = 0; k < format::kLeakKinds; ++k) {
      format::KindCount& total = (*verdict.kinds)[k];
      total.blocks -= std::min(total.blocks, (*own)[k].blocks);
      total.bytes -= std::min(total.bytes, (*own)[k].bytes);
    }
  }
  return verdict;
}

ProcessHeapView process_view(const TracedProcess& tp, StackTable& table, Symbolizer& symbolizer,
                             const SuppressionList& suppressions) {
  const ProcessAnalysis& p = *tp.analysis;
  ProcessHeapView v;
  v.process = &tp;
  for (const SiteStats& s : p.heap().sites()) v.sites.push_back(site_view(p, s, table, symbolizer));
  v.leaks = apply_suppressions(p, v.sites, suppressions);
  std::stable_sort(v.sites.begin(), v.sites.end(), [](const SiteView& a, const SiteView& b) {
    return site_bytes(*a.stats) > site_bytes(*b.stats);
  });
  v.functions = functions(v.sites);
  v.threads = threads(p);
  v.peak_sites = top_sites(v, site_bytes_at_peak, SIZE_MAX);
  // An image replaced by exec leaked nothing: the exec discarded the blocks it still held.
  if (!ended_by_exec(p)) v.leak_sites = top_sites(v, site_leaked_bytes, SIZE_MAX);
  return v;
}

}  // namespace

std::vector<size_t> top_sites(const ProcessHeapView& view, uint64_t (*key)(const SiteStats&),
                              size_t top) {
  std::vector<size_t> out;
  for (size_t i = 0; i < view.sites.size(); ++i)
    if (key(*view.sites[i].stats) > 0) out.push_back(i);
  std::stable_sort(out.begin(), out.end(), [&](size_t a, size_t b) {
    return key(*view.sites[a].stats) > key(*view.sites[b].stats);
  });
  if (out.size() > top) out.resize(top);
  return out;
}

std::string frame_name(const Frame& f) {
  return f.function.empty() ? frame_fallback_name(f) : f.function;
}

std::string site_location(const SiteView& site) {
  const Frame* f = site.function();
  if (f == nullptr) return {};
  std::string out = frame_name(*f);
  if (!f->function.empty() && !f->file.empty()) {
    out += " (" + std::filesystem::path(f->file).filename().string();
    if (f->line) out += ":" + std::to_string(f->line);
    out += ")";
  }
  return out;
}

std::function<std::string(uint64_t)> site_namer(const ProcessHeapView& view) {
  auto by_stack_id = std::make_shared<std::unordered_map<uint64_t, size_t>>();
  for (size_t i = 0; i < view.sites.size(); ++i)
    by_stack_id->emplace(view.sites[i].stats->stack_id, i);
  return [&view, by_stack_id](uint64_t stack_id) {
    auto it = by_stack_id->find(stack_id);
    return it == by_stack_id->end() ? std::string() : site_location(view.sites[it->second]);
  };
}

const std::vector<std::string>& runtime_module_prefixes() {
  static const std::vector<std::string> kRuntime = {
      "libc.so", "libstdc++.so", "libgcc_s.so", "libm.so", "ld-linux", "libc++", "libmemscope"};
  return kRuntime;
}

std::vector<size_t> leaks_of(const ProcessHeapView& view, bool suppressed) {
  std::vector<size_t> out;
  for (size_t i : view.leak_sites)
    if (view.sites[i].suppressed_by.has_value() == suppressed) out.push_back(i);
  return out;
}

HeapReport build_heap_report(const Session& session, Symbolizer& symbolizer,
                             const SuppressionList& suppressions) {
  HeapReport report;
  for (const auto& tp : session.processes)
    report.processes.push_back(process_view(*tp, *report.stacks, symbolizer, suppressions));
  report.distinct_addresses = symbolizer.distinct_addresses();
  report.suppressions = suppressions.rules();
  return report;
}

uint64_t sampled_mean_bytes(const HeapReport& heap) {
  for (const ProcessHeapView& v : heap.processes)
    if (const HeapEstimates* e = v.process->analysis->estimates()) return e->sampling.mean_bytes;
  return 0;
}

}  // namespace memscope::analyzer
