// See export_chrome_trace.hpp. Everything comes from the typed analysis (the threads, heap
// timeline and metric series the JSON report shows too), so the trace shows the figures the
// other reports show; a series the collector never recorded has no counter.
#include "analyzer/export_chrome_trace.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace memscope::analyzer {
namespace {

using nlohmann::json;

// Metric series worth a counter track: CPU, GPU, IO and the process's memory. Per-core and
// per-thread series are left out: a track each would bury the timeline.
constexpr std::array<const char*, 8> kCounterPrefixes = {"cpu.overall_usage_percent",
                                                         "process.cpu_percent",
                                                         "memory.process_rss_bytes",
                                                         "gpu",
                                                         "io.process_",
                                                         "disk.",
                                                         "net.",
                                                         "psi.io."};

bool wanted_series(const std::string& name) {
  for (const char* prefix : kCounterPrefixes)
    if (name.rfind(prefix, 0) == 0) return true;
  return false;
}

double micros(uint64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

json counter(uint64_t pid, const std::string& name, uint64_t ts_ns, json args) {
  return {{"ph", "C"},  {"name", name},        {"pid", pid},
          {"tid", pid}, {"ts", micros(ts_ns)}, {"args", std::move(args)}};
}

json metadata(const char* what, uint64_t pid, uint64_t tid, const std::string& name) {
  return {{"ph", "M"}, {"name", what}, {"pid", pid}, {"tid", tid}, {"args", {{"name", name}}}};
}

// The last moment the process is known to have lived: a thread end, a metric sample, or the end
// of the last heap bucket. Threads with no recorded end are drawn up to it.
uint64_t last_seen(const ProcessReport& r) {
  const ProcessAnalysis& p = *r.traced->analysis;
  uint64_t last = 0;
  for (const auto& [tid, t] : p.threads()) last = std::max({last, t.start_stamp, t.end_stamp});
  for (const insights::MetricSeries& s : r.insights.series)
    for (uint64_t ts : s.timestamps_ns) last = std::max(last, ts);
  const HeapTimeline& heap = p.timeline();
  if (!heap.buckets().empty())
    last = std::max(last, heap.buckets().back().start_ns + heap.bucket_ns());
  return last;
}

void add_threads(const ProcessReport& r, std::vector<json>& events) {
  const ProcessAnalysis& p = *r.traced->analysis;
  uint64_t pid = r.pid, end_of_process = last_seen(r);
  const auto& counts = p.heap().per_thread();
  for (const auto& [tid, t] : p.threads()) {
    auto it = counts.find(static_cast<uint32_t>(tid));
    Counters c = it == counts.end() ? Counters{} : it->second;
    uint64_t start = t.start_stamp, end = t.end_stamp;
    events.push_back(metadata("thread_name", pid, tid, t.name.empty() ? "thread" : t.name));
    bool ended = end != 0;
    if (!ended) end = std::max(start, end_of_process);
    events.push_back({{"ph", "X"},
                      {"cat", "thread"},
                      {"name", t.name.empty() ? "thread " + std::to_string(tid) : t.name},
                      {"pid", pid},
                      {"tid", tid},
                      {"ts", micros(start)},
                      {"dur", micros(end - start)},
                      {"args",
                       {{"allocations", c.allocations},
                        {"frees", c.frees},
                        {"allocated_bytes", c.allocated_bytes},
                        {"end_recorded", ended}}}});
  }
}

// The heap timeline's buckets: the highest live heap within each, and its allocation rates.
void add_heap_counters(const ProcessReport& r, std::vector<json>& events) {
  const HeapTimeline& tl = r.traced->analysis->timeline();
  double width_s = static_cast<double>(tl.bucket_ns()) / 1e9;
  for (const HeapBucket& b : tl.buckets()) {
    events.push_back(counter(r.pid, "live heap", b.start_ns, {{"bytes", b.live_bytes_peak}}));
    events.push_back(counter(r.pid, "allocation rate", b.start_ns,
                             {{"allocations/s", static_cast<double>(b.allocations) / width_s},
                              {"frees/s", static_cast<double>(b.frees) / width_s}}));
    events.push_back(counter(r.pid, "allocated bytes/s", b.start_ns,
                             {{"bytes/s", static_cast<double>(b.allocated_bytes) / width_s}}));
  }
}

void add_metric_counters(const ProcessReport& r, std::vector<json>& events) {
  for (const insights::MetricSeries& s : r.insights.series) {
    if (!wanted_series(s.name)) continue;
    for (size_t i = 0; i < s.timestamps_ns.size() && i < s.values.size(); ++i)
      events.push_back(counter(r.pid, s.name, s.timestamps_ns[i], {{s.unit, s.values[i]}}));
  }
}

}  // namespace

json chrome_trace(const AnalysisReport& report) {
  std::vector<json> meta, timed;
  for (const ProcessReport& p : report.processes) {
    meta.push_back(metadata("process_name", p.pid, p.pid, process_label(p)));
    std::vector<json> threads;
    add_threads(p, threads);
    for (json& e : threads) (e["ph"] == "M" ? meta : timed).push_back(std::move(e));
    add_heap_counters(p, timed);
    add_metric_counters(p, timed);
  }
  // Sorted, so viewers that expect it (and readers of the file) see time move forward.
  std::stable_sort(timed.begin(), timed.end(), [](const json& a, const json& b) {
    return a["ts"].get<double>() < b["ts"].get<double>();
  });
  json events = json::array();
  for (json& e : meta) events.push_back(std::move(e));
  for (json& e : timed) events.push_back(std::move(e));
  return {{"traceEvents", std::move(events)},
          {"displayTimeUnit", "ms"},
          {"otherData", {{"generator", "memscope-analyze"}, {"clock", "CLOCK_MONOTONIC"}}}};
}

}  // namespace memscope::analyzer
