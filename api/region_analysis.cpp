// See region_analysis.hpp. The typed fields are read from the same JSON memscope-analyze
// writes, so the API and the tool can never disagree.
#include "api/region_analysis.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analyzer/export_html.hpp"
#include "analyzer/heap_report.hpp"
#include "analyzer/report_json.hpp"
#include "analyzer/session.hpp"
#include "analyzer/symbolizer.hpp"

namespace memscope::api {
namespace {

using nlohmann::json;

std::optional<double> number(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

uint64_t count(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<Bottleneck> bottleneck(const json& j) {
  static const std::pair<const char*, Bottleneck> kNames[] = {
      {"CpuBound", Bottleneck::CpuBound},
      {"MemoryBound", Bottleneck::MemoryBound},
      {"IoBound", Bottleneck::IoBound},
      {"GpuBound", Bottleneck::GpuBound},
      {"ContentionBound", Bottleneck::ContentionBound},
      {"Balanced", Bottleneck::Balanced}};
  std::string name = j.is_string() ? j.get<std::string>() : std::string();
  for (const auto& [n, b] : kNames)
    if (name == n) return b;
  return std::nullopt;
}

std::vector<Evidence> evidence(const json& list) {
  std::vector<Evidence> out;
  if (!list.is_array()) return out;
  for (const json& e : list)
    out.push_back({text(e, "name"), number(e, "value").value_or(0),
                   number(e, "threshold").value_or(0), e.value("met", false),
                   e.value("caveat", false)});
  return out;
}

PerformanceInsights insights(const json& j) {
  PerformanceInsights in;
  if (!j.is_object()) return in;
  in.primary_bottleneck = bottleneck(j.value("primary_bottleneck", json()));
  in.evidence = evidence(j.value("evidence", json()));
  in.cpu_efficiency_score = number(j, "cpu_efficiency_score");
  in.memory_efficiency_score = number(j, "memory_efficiency_score");
  in.io_efficiency_score = number(j, "io_efficiency_score");
  for (const json& r : j.value("recommendations", json::array())) {
    Recommendation rec{text(r, "kind"), text(r, "message"), evidence(r.value("evidence", json())),
                       std::nullopt};
    if (r.contains("site")) rec.site = text(r["site"], "location");
    in.recommendations.push_back(std::move(rec));
  }
  for (const json& t : j.value("thread_performance_ranking", json::array()))
    in.thread_performance_ranking.push_back(
        {count(t, "thread_id"), text(t, "thread_name"), number(t, "efficiency_score").value_or(0),
         number(t, "cpu_percent").value_or(0), number(t, "run_queue_wait_percent"),
         count(t, "allocations")});
  return in;
}

std::vector<CorrelationResult> correlations(const json& j) {
  std::vector<CorrelationResult> out;
  if (!j.is_object()) return out;
  for (const auto& [name, c] : j.items()) {
    CorrelationResult r{name, count(c, "samples"), {}, {}, {}, {}};
    if (c.contains("pearson") && c["pearson"].is_object()) {
      r.pearson = number(c["pearson"], "r");
      r.pearson_p_value = number(c["pearson"], "p_value");
    }
    if (c.contains("spearman") && c["spearman"].is_object()) {
      r.spearman = number(c["spearman"], "r");
      r.spearman_p_value = number(c["spearman"], "p_value");
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

ProfileAnalysis analysis_from_json(const std::string& report_json) {
  json report = json::parse(report_json, nullptr, false);
  ProfileAnalysis a;
  if (report.is_discarded() || !report.contains("processes") || report["processes"].empty())
    throw ProfilingError("memscope: the analysis produced no process");
  const json& p = report["processes"][0];
  a.summary = {count(p, "total_allocations"),
               count(p, "total_frees"),
               count(p, "total_allocated_bytes"),
               count(p, "peak_heap_bytes"),
               count(p, "leaked_allocations"),
               count(p, "leaked_bytes"),
               count(p, "threads"),
               count(p, "dropped_events")};
  a.performance_insights = insights(p.value("performance_insights", json()));
  a.correlations = correlations(p.value("correlations", json()));
  return a;
}

RegionResult analyze_region(const std::string& trace_path, uint64_t begin_ns, uint64_t end_ns) {
  analyzer::Session session;
  auto process = std::make_unique<analyzer::TracedProcess>();
  process->analysis = std::make_unique<analyzer::ProcessAnalysis>(trace_path);
  process->analysis->restrict_to(begin_ns, end_ns);
  process->analysis->read();
  if (!process->analysis->read_result().opened)
    throw ProfilingError("memscope: cannot read the trace " + trace_path + ": " +
                         process->analysis->read_result().error);
  session.processes.push_back(std::move(process));
  analyzer::Symbolizer symbolizer;
  analyzer::HeapReport heap = analyzer::build_heap_report(session, symbolizer);
  std::ostringstream text;
  analyzer::write_json_report(session, heap, text);
  std::string report = text.str();
  ProfileAnalysis a = analysis_from_json(report);
  a.trace_path = trace_path;
  a.region_begin_ns = begin_ns;
  a.region_end_ns = end_ns;
  return {std::move(a), std::move(report)};
}

bool write_html_file(const std::filesystem::path& path, const std::string& report_json,
                     std::string& error) {
  return analyzer::write_html_report(report_json, path.string(), error);
}

bool write_text_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  return static_cast<bool>(out << text);
}

}  // namespace memscope::api
