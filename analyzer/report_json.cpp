// See report_json.hpp.
#include "analyzer/report_json.hpp"

#include "analyzer/insights/insights_report.hpp"
#include "analyzer/summary.hpp"

namespace memscope::analyzer {
namespace {

using nlohmann::json;

json summary_json(const Summary& s) {
  return {{"total_allocations", s.total_allocations},
          {"total_frees", s.total_frees},
          {"total_allocated_bytes", s.total_allocated_bytes},
          {"peak_heap_bytes", s.peak_heap_bytes},
          {"leaked_allocations", s.leaked_allocations},
          {"leaked_bytes", s.leaked_bytes},
          {"threads", s.threads},
          {"dropped_events", s.dropped_events},
          {"unmatched_frees", s.unmatched_frees}};
}

json threads_json(const ProcessAnalysis& p) {
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
                   {"allocations", c.allocations},
                   {"frees", c.frees},
                   {"allocated_bytes", c.allocated_bytes},
                   {"ring_waits", t.ring_waits},
                   {"ring_wait_ns", t.ring_wait_ns}});
  }
  return out;
}

json process_json(const TracedProcess& tp) {
  const ProcessAnalysis& p = *tp.analysis;
  const ProcessInfo& info = p.info();
  json j = summary_json(summarize(p));
  j["pid"] = info.pid;
  j["ppid"] = info.ppid;
  j["parent_pid"] = tp.parent ? json(tp.parent->analysis->info().pid) : json(nullptr);
  j["how"] = origin_name(tp.origin);
  j["exe"] = info.exe;
  j["argv"] = info.argv;
  j["trace"] = p.path();
  j["malloc_provider"] = info.malloc_provider;
  j["ended"] = describe_end(p);
  j["complete"] = p.read_result().complete;
  j["warning"] = p.read_result().error.empty() ? json(nullptr) : json(p.read_result().error);
  j["threads_detail"] = threads_json(p);
  j["metrics"] = {{"samples", p.metric_samples().size()},
                  {"undecodable_samples", p.undecodable_samples()}};
  insights::add_insights_json(p, j);  // metrics.series, correlations, performance_insights
  if (const ForkSnapshot* inherited = p.inherited()) {
    j["inherited"] = {{"total_allocations", inherited->totals.allocations},
                      {"total_allocated_bytes", inherited->totals.allocated_bytes},
                      {"live_allocations", inherited->totals.live_allocations},
                      {"live_bytes", inherited->totals.live_bytes}};
  }
  return j;
}

}  // namespace

json json_report(const Session& session) {
  json processes = json::array();
  for (const auto& p : session.processes) processes.push_back(process_json(*p));
  return {{"schema", kJsonSchema},
          {"summary", summary_json(summarize(session))},
          {"processes", processes},
          {"errors", session.errors}};
}

}  // namespace memscope::analyzer
