// See export_chrome_trace.hpp. Everything comes from the analysis JSON so the trace shows the
// figures the other reports show; a series the collector never recorded has no counter.
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

uint64_t get_u64(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

json counter(uint64_t pid, const std::string& name, uint64_t ts_ns, json args) {
  return {{"ph", "C"},  {"name", name},        {"pid", pid},
          {"tid", pid}, {"ts", micros(ts_ns)}, {"args", std::move(args)}};
}

json metadata(const char* what, uint64_t pid, uint64_t tid, const std::string& name) {
  return {{"ph", "M"}, {"name", what}, {"pid", pid}, {"tid", tid}, {"args", {{"name", name}}}};
}

std::string process_label(const json& p) {
  // The name it was run by (an argv[0] symlink's, not its target's); a report written before
  // processes had names: the executable's.
  std::string name = p.value("name", std::string());
  if (name.empty()) {
    name = p.value("exe", std::string());
    name = name.substr(name.rfind('/') + 1);
  }
  return name + " (pid " + std::to_string(get_u64(p, "pid")) + ")";
}

// The last moment the process is known to have lived: a thread end, a metric sample, or the end
// of the last heap bucket. Threads with no recorded end are drawn up to it.
uint64_t last_seen(const json& p) {
  uint64_t last = 0;
  for (const json& t : p["threads_detail"])
    last = std::max({last, get_u64(t, "start_ns"), get_u64(t, "end_ns")});
  for (const json& s : p["metrics"].value("series", json::array()))
    for (const json& ts : s["timestamps_ns"]) last = std::max(last, ts.get<uint64_t>());
  const json& heap = p["heap_over_time"];
  if (!heap["buckets"].empty())
    last = std::max(last, get_u64(heap["buckets"].back(), "start_ns") + get_u64(heap, "bucket_ns"));
  return last;
}

void add_threads(const json& p, std::vector<json>& events) {
  uint64_t pid = get_u64(p, "pid"), end_of_process = last_seen(p);
  for (const json& t : p["threads_detail"]) {
    uint64_t tid = get_u64(t, "tid"), start = get_u64(t, "start_ns"), end = get_u64(t, "end_ns");
    std::string name = t.value("name", std::string());
    events.push_back(metadata("thread_name", pid, tid, name.empty() ? "thread" : name));
    bool ended = end != 0;
    if (!ended) end = std::max(start, end_of_process);
    events.push_back({{"ph", "X"},
                      {"cat", "thread"},
                      {"name", name.empty() ? "thread " + std::to_string(tid) : name},
                      {"pid", pid},
                      {"tid", tid},
                      {"ts", micros(start)},
                      {"dur", micros(end - start)},
                      {"args",
                       {{"allocations", get_u64(t, "allocations")},
                        {"frees", get_u64(t, "frees")},
                        {"allocated_bytes", get_u64(t, "allocated_bytes")},
                        {"end_recorded", ended}}}});
  }
}

// The heap timeline's buckets: the highest live heap within each, and its allocation rates.
void add_heap_counters(const json& p, std::vector<json>& events) {
  uint64_t pid = get_u64(p, "pid");
  for (const json& b : p["heap_over_time"]["buckets"]) {
    uint64_t ts = get_u64(b, "start_ns");
    events.push_back(counter(pid, "live heap", ts, {{"bytes", get_u64(b, "live_bytes_peak")}}));
    events.push_back(counter(pid, "allocation rate", ts,
                             {{"allocations/s", b.value("allocations_per_sec", 0.0)},
                              {"frees/s", b.value("frees_per_sec", 0.0)}}));
    events.push_back(
        counter(pid, "allocated bytes/s", ts, {{"bytes/s", b.value("bytes_per_sec", 0.0)}}));
  }
}

void add_metric_counters(const json& p, std::vector<json>& events) {
  uint64_t pid = get_u64(p, "pid");
  for (const json& s : p["metrics"].value("series", json::array())) {
    std::string name = s.value("name", std::string());
    if (!wanted_series(name)) continue;
    std::string unit = s.value("unit", std::string("value"));
    const json& ts = s["timestamps_ns"];
    const json& values = s["values"];
    for (size_t i = 0; i < ts.size() && i < values.size(); ++i)
      events.push_back(counter(pid, name, ts[i].get<uint64_t>(), {{unit, values[i]}}));
  }
}

}  // namespace

json chrome_trace(const json& report) {
  std::vector<json> meta, timed;
  for (const json& p : report["processes"]) {
    uint64_t pid = get_u64(p, "pid");
    meta.push_back(metadata("process_name", pid, pid, process_label(p)));
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
