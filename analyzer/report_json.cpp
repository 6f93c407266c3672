// See report_json.hpp. Per-process sections are built in process_json; lists that span
// processes (threads, sites, leaks) are built per process and concatenated, each entry with its
// pid.
#include "analyzer/report_json.hpp"

#include <cstdio>

#include "analyzer/insights/insights_report.hpp"
#include "analyzer/leak_kinds.hpp"
#include "analyzer/summary.hpp"

namespace memscope::analyzer {
namespace {

using nlohmann::json;

// <kind>_allocations and <kind>_bytes for each kind: null when unknown.
void add_kinds(const std::optional<format::KindCounts>& kinds, json& j) {
  for (size_t k = 0; k < format::kLeakKinds; ++k) {
    std::string name = kLeakKindNames[k];
    j[name + "_allocations"] = kinds ? json((*kinds)[k].blocks) : json(nullptr);
    j[name + "_bytes"] = kinds ? json((*kinds)[k].bytes) : json(nullptr);
  }
}

json summary_json(const Summary& s) {
  json j = {{"total_allocations", s.total_allocations},
            {"total_frees", s.total_frees},
            {"total_allocated_bytes", s.total_allocated_bytes},
            {"peak_heap_bytes", s.peak_heap_bytes},
            {"leaked_allocations", s.leaked_allocations},
            {"leaked_bytes", s.leaked_bytes},
            {"threads", s.threads},
            {"dropped_events", s.dropped_events},
            {"unmatched_frees", s.unmatched_frees}};
  add_kinds(s.leak_kinds, j);
  j["suppressed_blocks"] = s.suppressed.blocks;
  j["suppressed_bytes"] = s.suppressed.bytes;
  return j;
}

json or_null(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

json frame_json(const Frame& f) {
  return {{"function", or_null(f.function)},
          {"file", or_null(f.file)},
          {"line", f.line ? json(f.line) : json(nullptr)},
          {"module", or_null(f.module)},
          {"address", hex(f.address)},
          {"offset", f.module.empty() ? json(nullptr) : json(hex(f.offset))},
          {"inlined", f.inlined}};
}

json stack_json(const SiteView& site) {
  json out = json::array();
  for (const Frame* f : site.frames()) out.push_back(frame_json(*f));
  return out;
}

json histogram_json(const Log2Histogram& h) {
  json out = json::array();
  for (size_t i = 0; i < h.counts.size(); ++i) {
    if (h.counts[i] == 0) continue;
    uint64_t from = i == 0 ? 0 : uint64_t{1} << (i - 1);
    json below = i == 64 ? json(nullptr) : json(uint64_t{1} << i);
    out.push_back({{"from", from}, {"below", below}, {"count", h.counts[i]}});
  }
  return out;
}

// The figures a site and a function share.
json stats_json(const SiteStats& s) {
  return {{"allocations", s.counts.allocations},
          {"frees", s.counts.frees},
          {"allocated_bytes", s.counts.allocated_bytes},
          {"freed_bytes", s.counts.freed_bytes},
          {"temporary_allocations", s.temporary},
          {"leaked_allocations", s.live_allocations},
          {"leaked_bytes", s.live_bytes},
          {"peak_allocations", s.peak_allocations},
          {"peak_bytes", s.peak_bytes},
          {"sizes", histogram_json(s.sizes)},
          {"lifetimes_ns", histogram_json(s.lifetimes)}};
}

// The identity of a site: its stack id (null for blocks inherited at a fork) and function.
json site_identity(uint64_t pid, const SiteView& site) {
  bool inherited = site.stats->stack_id == kInheritedStack;
  const Frame* f = site.function();
  return {{"pid", pid},
          {"stack_id", inherited ? json(nullptr) : json(site.stats->stack_id)},
          {"inherited", inherited},
          {"function", f ? json(frame_name(*f)) : json(nullptr)},
          {"file", f ? or_null(f->file) : json(nullptr)},
          {"line", f && f->line ? json(f->line) : json(nullptr)}};
}

json site_json(uint64_t pid, const SiteView& site) {
  json j = site_identity(pid, site);
  j.update(stats_json(*site.stats));
  j["stack"] = stack_json(site);
  return j;
}

json suppression_json(const SuppressionRule& rule) {
  return {{"rule", "leak:" + rule.pattern}, {"origin", rule.origin}};
}

// A leaking site: its live blocks, their leading kind and the breakdown (null when unknown).
json leak_json(const ProcessAnalysis& p, const SiteView& site) {
  json j = site_identity(p.info().pid, site);
  j["bytes"] = site.stats->live_bytes;
  j["allocations"] = site.stats->live_allocations;
  std::optional<format::KindCounts> kinds = site_leak_kinds(p, site.stats->stack_id);
  std::optional<format::LeakKind> kind = kinds ? leading_kind(*kinds) : std::nullopt;
  j["kind"] = kind ? json(kLeakKindNames[static_cast<size_t>(*kind)]) : json(nullptr);
  json by_kind = nullptr;
  if (kinds) {
    by_kind = json::object();
    for (size_t k = 0; k < format::kLeakKinds; ++k)
      by_kind[kLeakKindNames[k]] = {{"allocations", (*kinds)[k].blocks},
                                    {"bytes", (*kinds)[k].bytes}};
  }
  j["kinds"] = by_kind;
  j["suppressed"] = site.suppressed_by.has_value();
  j["suppression"] = site.suppressed_by ? suppression_json(*site.suppressed_by) : json(nullptr);
  j["stack"] = stack_json(site);
  return j;
}

json functions_json(const ProcessHeapView& v) {
  json out = json::array();
  for (const FunctionView& f : v.functions) {
    const Frame& frame = *v.sites[f.largest_site].function();
    json j = {{"function", f.name},
              {"file", or_null(frame.file)},
              {"line", frame.line ? json(frame.line) : json(nullptr)},
              {"module", or_null(frame.module)},
              {"sites", f.sites}};
    j.update(stats_json(f.totals));
    out.push_back(std::move(j));
  }
  return out;
}

json peak_json(const ProcessAnalysis& p, const ProcessHeapView& v) {
  const HeapTotals& t = p.heap().totals();
  if (t.peak_bytes == 0) return nullptr;
  json sites = json::array();
  for (size_t i : v.peak_sites) {
    json j = site_identity(p.info().pid, v.sites[i]);
    j["bytes"] = v.sites[i].stats->peak_bytes;
    j["allocations"] = v.sites[i].stats->peak_allocations;
    sites.push_back(std::move(j));
  }
  return {{"pid", p.info().pid},
          {"stamp_ns", t.peak_stamp},
          {"bytes", t.peak_bytes},
          {"allocations", t.peak_allocations},
          {"sites", sites}};
}

json heap_over_time_json(const HeapTimeline& tl) {
  double width_s = static_cast<double>(tl.bucket_ns()) / 1e9;
  json buckets = json::array();
  for (const HeapBucket& b : tl.buckets())
    buckets.push_back({{"start_ns", b.start_ns},
                       {"live_bytes", b.live_bytes_end},
                       {"live_bytes_peak", b.live_bytes_peak},
                       {"allocations", b.allocations},
                       {"frees", b.frees},
                       {"allocated_bytes", b.allocated_bytes},
                       {"freed_bytes", b.freed_bytes},
                       {"allocations_per_sec", static_cast<double>(b.allocations) / width_s},
                       {"frees_per_sec", static_cast<double>(b.frees) / width_s},
                       {"bytes_per_sec", static_cast<double>(b.allocated_bytes) / width_s}});
  return {{"bucket_ns", tl.bucket_ns()}, {"buckets", buckets}};
}

json thread_json(uint64_t pid, const ThreadView& t) {
  const ThreadInfo& info = *t.info;
  return {{"pid", pid},
          {"tid", info.tid},
          {"name", info.name},
          {"parent_tid", info.parent_tid ? json(info.parent_tid) : json(nullptr)},
          {"start_ns", info.start_stamp},
          {"end_ns", info.end_stamp ? json(info.end_stamp) : json(nullptr)},
          {"end_at_process_end", info.end_at_process_end},
          {"known_from", thread_source_name(info.source)},
          {"allocations", t.heap.counts.allocations},
          {"frees", t.heap.counts.frees},
          {"allocated_bytes", t.heap.counts.allocated_bytes},
          {"freed_bytes", t.heap.counts.freed_bytes},
          {"temporary_allocations", t.heap.temporary},
          {"live_allocations", t.heap.live_allocations},
          {"live_bytes", t.heap.live_bytes},
          {"cpu_time_ns", t.cpu_time_ns ? json(*t.cpu_time_ns) : json(nullptr)}};
}

json threads_detail_json(const ProcessAnalysis& p) {
  json out = json::array();
  const auto& counts = p.heap().per_thread();
  for (const auto& [tid, t] : p.threads()) {
    auto it = counts.find(static_cast<uint32_t>(tid));
    Counters c = it == counts.end() ? Counters{} : it->second;
    out.push_back({{"tid", tid},
                   {"name", t.name},
                   {"parent_tid", t.parent_tid ? json(t.parent_tid) : json(nullptr)},
                   {"start_ns", t.start_stamp},
                   {"end_ns", t.end_stamp ? json(t.end_stamp) : json(nullptr)},
                   {"end_at_process_end", t.end_at_process_end},
                   {"known_from", thread_source_name(t.source)},
                   {"allocations", c.allocations},
                   {"frees", c.frees},
                   {"allocated_bytes", c.allocated_bytes},
                   {"ring_waits", t.ring_waits},
                   {"ring_wait_ns", t.ring_wait_ns},
                   {"exact_cpu", t.cpu_at_start && t.cpu_at_end}});
  }
  return out;
}

json leak_check_json(const ProcessAnalysis& p) {
  const format::LeakScanRecord* scan = p.leak_scan();
  json j = {{"status", leak_check_status(p)}, {"complete", process_leak_kinds(p).has_value()}};
  if (scan == nullptr) return j;
  j["freeres"] = freeres_outcome(scan->freeres);
  j["per_site"] = scan->level == format::LeakCheckLevel::kFull;
  j["duration_ns"] = scan->duration_ns;
  j["root_bytes"] = scan->root_bytes;
  j["block_bytes"] = scan->block_bytes;
  j["threads_scanned"] = scan->threads_scanned;
  j["threads_unscanned"] = scan->threads_unscanned;
  return j;
}

json process_json(const TracedProcess& tp, const ProcessHeapView& v) {
  const ProcessAnalysis& p = *tp.analysis;
  const ProcessInfo& info = p.info();
  json j = summary_json(summarize(v));
  j["pid"] = info.pid;
  j["ppid"] = info.ppid;
  j["parent_pid"] = tp.parent ? json(tp.parent->analysis->info().pid) : json(nullptr);
  j["how"] = origin_name(tp.origin);
  j["name"] = process_name(info);
  j["executable"] = info.exe;
  j["exe"] = info.exe;
  j["argv"] = info.argv;
  j["trace"] = p.path();
  j["malloc_provider"] = info.malloc_provider;
  j["ended"] = describe_end(p);
  j["complete"] = p.read_result().complete;
  j["heap_source"] = p.heap_replayed() ? "replay" : "summary";
  j["warning"] = p.read_result().error.empty() ? json(nullptr) : json(p.read_result().error);
  j["temporary_allocations"] = p.heap().totals().temporary;
  j["leak_check"] = leak_check_json(p);
  j["sidecar_tid"] = p.sidecar_tid() ? json(p.sidecar_tid()) : json(nullptr);
  j["threads_detail"] = threads_detail_json(p);
  j["peak"] = peak_json(p, v);
  j["functions"] = functions_json(v);
  j["heap_over_time"] = heap_over_time_json(p.timeline());
  j["metrics"] = {{"samples", p.metric_samples().size()},
                  {"undecodable_samples", p.undecodable_samples()}};
  // metrics.series, correlations, performance_insights
  insights::add_insights_json(p, j, site_namer(v));
  if (const ForkSnapshot* inherited = p.inherited()) {
    j["inherited"] = {{"total_allocations", inherited->totals.allocations},
                      {"total_allocated_bytes", inherited->totals.allocated_bytes},
                      {"live_allocations", inherited->totals.live_allocations},
                      {"live_bytes", inherited->totals.live_bytes}};
  }
  return j;
}

// The largest single-process peak, as summary.peak_heap_bytes is.
json largest_peak(const json& processes) {
  json best = nullptr;
  for (const json& p : processes)
    if (!p["peak"].is_null() && (best.is_null() || p["peak"]["bytes"] > best["bytes"]))
      best = p["peak"];
  return best;
}

}  // namespace

json json_report(const Session& session, const HeapReport& heap) {
  json processes = json::array(), threads = json::array(), sites = json::array(),
       leaks = json::array(), suppressions = json::array();
  for (size_t i = 0; i < session.processes.size(); ++i) {
    const ProcessHeapView& v = heap.processes[i];
    uint64_t pid = session.processes[i]->analysis->info().pid;
    processes.push_back(process_json(*session.processes[i], v));
    for (const ThreadView& t : v.threads) threads.push_back(thread_json(pid, t));
    for (const SiteView& s : v.sites) sites.push_back(site_json(pid, s));
    for (size_t s : v.leak_sites)
      leaks.push_back(leak_json(*session.processes[i]->analysis, v.sites[s]));
  }
  for (const SuppressionRule& rule : heap.suppressions)
    suppressions.push_back(suppression_json(rule));
  return {{"schema", kJsonSchema},
          {"summary", summary_json(summarize(session, heap))},
          {"processes", processes},
          {"threads", threads},
          {"sites", sites},
          {"leaks", leaks},
          {"suppressions", suppressions},
          {"peak", largest_peak(processes)},
          {"errors", session.errors}};
}

}  // namespace memscope::analyzer
