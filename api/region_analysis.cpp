// See region_analysis.hpp. The typed fields are read from the AnalysisReport that
// memscope-analyze's reports are written from, so the API and the tool can never disagree.
#include "api/region_analysis.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analyzer/export_html.hpp"
#include "analyzer/report_json.hpp"
#include "analyzer/session.hpp"
#include "analyzer/symbolizer.hpp"

namespace memscope::api {
namespace {

namespace in = analyzer::insights;

std::optional<Bottleneck> bottleneck(const std::string& name) {
  static const std::pair<const char*, Bottleneck> kNames[] = {
      {"CpuBound", Bottleneck::CpuBound},
      {"MemoryBound", Bottleneck::MemoryBound},
      {"IoBound", Bottleneck::IoBound},
      {"GpuBound", Bottleneck::GpuBound},
      {"ContentionBound", Bottleneck::ContentionBound},
      {"Balanced", Bottleneck::Balanced}};
  for (const auto& [n, b] : kNames)
    if (name == n) return b;
  return std::nullopt;
}

std::vector<Evidence> evidence(const std::vector<in::Evidence>& list) {
  std::vector<Evidence> out;
  for (const in::Evidence& e : list) out.push_back({e.name, e.value, e.threshold, e.met, e.caveat});
  return out;
}

ThreadPerformance thread_performance(const in::RankedThread& r) {
  const in::ThreadFigures& t = *r.figures;
  std::optional<double> wait;
  if (t.run_queue_wait_s) wait = 100.0 * *t.run_queue_wait_s / t.span_s;
  return {static_cast<uint64_t>(t.tid), t.name, r.efficiency_score,
          100.0 * t.cpu_s / t.span_s,   wait,   t.allocations};
}

PerformanceInsights insights(const in::ProcessInsights& p) {
  PerformanceInsights out;
  out.primary_bottleneck = bottleneck(p.verdict.bottleneck);
  out.evidence = evidence(p.verdict.evidence);
  out.cpu_efficiency_score = p.scores.cpu;
  out.memory_efficiency_score = p.scores.memory;
  out.io_efficiency_score = p.scores.io;
  for (const in::Recommendation& r : p.recommendations) {
    Recommendation rec{r.kind, r.message, evidence(r.evidence), std::nullopt};
    if (r.site) rec.site = r.site->location;
    out.recommendations.push_back(std::move(rec));
  }
  for (const in::RankedThread& r : p.ranking)
    out.thread_performance_ranking.push_back(thread_performance(r));
  return out;
}

std::vector<CorrelationResult> correlations(const std::vector<in::Correlation>& cs) {
  std::vector<CorrelationResult> out;
  for (const in::Correlation& c : cs) {
    CorrelationResult r{c.name, c.samples, {}, {}, {}, {}};
    if (c.pearson) r.pearson = c.pearson->r, r.pearson_p_value = c.pearson->p_value;
    if (c.spearman) r.spearman = c.spearman->r, r.spearman_p_value = c.spearman->p_value;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

ProfileAnalysis analysis_from_report(const analyzer::AnalysisReport& report) {
  if (report.processes.empty()) throw ProfilingError("memscope: the analysis produced no process");
  const analyzer::ProcessReport& p = report.processes.front();
  const analyzer::Summary& s = p.summary;
  ProfileAnalysis a;
  a.summary = {s.total_allocations, s.total_frees,        s.total_allocated_bytes,
               s.peak_heap_bytes,   s.leaked_allocations, s.leaked_bytes,
               s.threads,           s.dropped_events};
  a.performance_insights = insights(p.insights);
  a.correlations = correlations(p.insights.correlations);
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
  analyzer::AnalysisReport report =
      analyzer::build_analysis_report(session, symbolizer, analyzer::SuppressionList::builtin());
  ProfileAnalysis a = analysis_from_report(report);
  a.trace_path = trace_path;
  a.region_begin_ns = begin_ns;
  a.region_end_ns = end_ns;
  std::ostringstream json;
  analyzer::write_json_report(report, json);
  return {std::move(a), json.str()};
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
