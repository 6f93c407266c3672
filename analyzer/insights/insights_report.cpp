// See insights_report.hpp.
#include "analyzer/insights/insights_report.hpp"

#include <cstdio>

#include "analyzer/insights/aligned.hpp"
#include "analyzer/insights/bottleneck.hpp"
#include "analyzer/insights/correlations.hpp"
#include "analyzer/insights/figures.hpp"
#include "analyzer/insights/metric_series.hpp"
#include "analyzer/insights/recommendations.hpp"

namespace memscope::analyzer::insights {
namespace {

using nlohmann::json;

json opt(const std::optional<double>& v) {
  return v ? json(*v) : json(nullptr);
}

json series_json(const MetricSeries& s, const SeriesSummary& sum) {
  json j = {{"name", s.name},
            {"unit", s.unit},
            {"samples", sum.samples},
            {"min", sum.min},
            {"mean", sum.mean},
            {"max", sum.max},
            {"timestamps_ns", s.timestamps_ns},
            {"values", s.values}};
  if (!s.thread_name.empty()) j["thread_name"] = s.thread_name;
  return j;
}

json coefficient_json(const std::optional<Coefficient>& c) {
  if (!c) return nullptr;
  return {{"r", c->r}, {"p_value", c->p_value}, {"ci95", {c->ci95_low, c->ci95_high}}};
}

json correlations_json(const std::vector<Correlation>& cs) {
  json out = json::object();
  for (const Correlation& c : cs) {
    json j = {{"x", c.x},
              {"y", c.y},
              {"samples", c.samples},
              {"pearson", coefficient_json(c.pearson)},
              {"spearman", coefficient_json(c.spearman)}};
    if (!c.null_reason.empty()) j["null_reason"] = c.null_reason;
    out[c.name] = j;
  }
  return out;
}

json evidence_json(const std::vector<Evidence>& es) {
  json out = json::array();
  for (const Evidence& e : es) {
    json j = {{"name", e.name}, {"value", e.value}, {"threshold", e.threshold}, {"met", e.met}};
    if (e.caveat) j["caveat"] = true;
    out.push_back(j);
  }
  return out;
}

json figures_json(const ProcessFigures& f) {
  return {{"samples", f.samples},
          {"window_s", f.window_s},
          {"online_cores", opt(f.online_cores)},
          {"cpu_quota_cores", opt(f.cpu_quota_cores)},
          {"usable_cores", opt(f.usable_cores)},
          {"process_cpu_cores", opt(f.process_cpu_cores)},
          {"cpu_utilization_of_usable_cores", opt(f.cpu_utilization)},
          {"machine_cpu_percent", opt(f.machine_cpu_percent)},
          {"on_cpu_share", opt(f.on_cpu_share)},
          {"run_queue_wait_share", opt(f.run_queue_wait_share)},
          {"off_cpu_share", opt(f.off_cpu_share)},
          {"cpu_busy_share", opt(f.cpu_busy_share)},
          {"voluntary_switches_per_thread_sec", opt(f.voluntary_switches_per_thread_sec)},
          {"active_threads", f.active_threads},
          {"active_busy_share", opt(f.active_busy_share)},
          {"active_voluntary_switches_per_sec", opt(f.active_voluntary_switches_per_sec)},
          {"profiler_wait_share", opt(f.profiler_wait_share)},
          {"profiler_cpu_cores", opt(f.profiler_cpu_cores)},
          {"profiler_cpu_share_of_usable_cores", opt(f.profiler_cpu_share_of_usable_cores)},
          {"user_cpu_seconds", opt(f.user_cpu_seconds)},
          {"system_cpu_seconds", opt(f.system_cpu_seconds)},
          {"system_cpu_share", opt(f.system_cpu_share)},
          {"minor_faults_per_cpu_second", opt(f.minor_faults_per_cpu_second)},
          {"iowait_percent", opt(f.iowait_percent)},
          {"psi_cpu_some_percent", opt(f.psi_cpu_some_percent)},
          {"psi_memory_some_percent", opt(f.psi_memory_some_percent)},
          {"psi_io_some_percent", opt(f.psi_io_some_percent)},
          {"psi_io_full_percent", opt(f.psi_io_full_percent)},
          {"cgroup_throttled_percent", opt(f.cgroup_throttled_percent)},
          {"process_io_bytes_per_sec", opt(f.process_io_bytes_per_sec)},
          {"profiler_io_bytes_per_sec", opt(f.profiler_io_bytes_per_sec)},
          {"major_faults_per_sec", opt(f.major_faults_per_sec)},
          {"minor_faults_per_sec", opt(f.minor_faults_per_sec)},
          {"gpu_compute_percent", opt(f.gpu_percent)},
          {"heap_ops_per_sec", f.heap_ops_per_sec},
          {"heap_ops_per_cpu_second", opt(f.heap_ops_per_cpu_second)},
          {"ipc", opt(f.hardware.ipc)},
          {"cycles_per_instruction", opt(f.hardware.cycles_per_instruction)},
          {"llc_misses_per_kilo_instruction", opt(f.hardware.llc_misses_per_kilo_instruction)}};
}

// Every figure null when the counters were not available, and `reason` says why.
json hardware_json(const HardwareFigures& h) {
  return {{"available", h.available},
          {"reason", h.available ? json(nullptr) : json(h.reason)},
          {"user_only", h.available ? json(h.user_only) : json(nullptr)},
          {"cycles", opt(h.cycles)},
          {"instructions", opt(h.instructions)},
          {"llc_misses", opt(h.llc_misses)},
          {"stalled_cycles_backend", opt(h.stalled_cycles_backend)},
          {"ipc", opt(h.ipc)},
          {"llc_misses_per_kilo_instruction", opt(h.llc_misses_per_kilo_instruction)},
          {"stalled_backend_share", opt(h.stalled_backend_share)},
          {"counted_share", opt(h.counted_share)}};
}

json ranking_json(const std::vector<RankedThread>& ranking) {
  json out = json::array();
  for (const RankedThread& r : ranking) {
    const ThreadFigures& t = *r.figures;
    auto pct = [&](double s) { return 100.0 * s / t.span_s; };
    auto opt_pct = [&](const std::optional<double>& s) {
      return s ? json(pct(*s)) : json(nullptr);
    };
    json faults_per_cpu_s = nullptr;
    if (t.minor_faults && t.cpu_s > 0) faults_per_cpu_s = *t.minor_faults / t.cpu_s;
    out.push_back({{"thread_id", t.tid},
                   {"thread_name", t.name},
                   {"efficiency_score", r.efficiency_score},
                   {"exact", t.exact},
                   {"seconds", t.span_s},
                   {"cpu_seconds", t.cpu_s},
                   {"cpu_percent", pct(t.cpu_s)},
                   {"user_cpu_percent", opt_pct(t.user_s)},
                   {"system_cpu_percent", opt_pct(t.system_s)},
                   {"run_queue_wait_percent", opt_pct(t.run_queue_wait_s)},
                   {"profiler_wait_share", t.profiler_wait_s / t.span_s},
                   {"off_cpu_percent", pct(t.off_cpu_s)},
                   {"voluntary_switches_per_sec", opt(t.voluntary_switches_per_sec)},
                   {"involuntary_switches_per_sec", opt(t.involuntary_switches_per_sec)},
                   {"minor_faults_per_cpu_second", faults_per_cpu_s},
                   {"ipc", t.hardware ? opt(t.hardware->ipc) : json(nullptr)},
                   {"llc_misses_per_kilo_instruction",
                    t.hardware ? opt(t.hardware->llc_misses_per_kilo_instruction) : json(nullptr)},
                   {"allocations", t.allocations}});
  }
  return out;
}

json recommendations_json(const std::vector<Recommendation>& rs) {
  json out = json::array();
  for (const Recommendation& r : rs) {
    json j = {{"kind", r.kind}, {"message", r.message}, {"evidence", evidence_json(r.evidence)}};
    if (r.site)
      j["site"] = {{"stack_id", r.site->stack_id},
                   {"location", r.site->location},
                   {"allocations", r.site->allocations},
                   {"bytes", r.site->bytes},
                   {"frees", r.site->frees}};
    out.push_back(j);
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf),
                v != 0 && (v >= 1e6 || v <= -1e6 || (v < 0.01 && v > -0.01)) ? "%.3g" : "%.2f", v);
  return buf;
}

void series_text(const ProcessInsights& in, std::ostream& out) {
  const std::vector<MetricSeries>& series = in.series;
  if (series.empty()) return;
  out << "  metrics (" << series.size() << " series): name, unit, samples, min / mean / max\n";
  size_t thread_rows = 0, skipped = 0;
  for (size_t i = 0; i < series.size(); ++i) {
    const MetricSeries& s = series[i];
    // Per-thread rows can be hundreds; the JSON has them all.
    if (!s.thread_name.empty() && ++thread_rows > 16) {
      ++skipped;
      continue;
    }
    const SeriesSummary& m = in.series_summaries[i];
    out << "    " << s.name;
    if (!s.thread_name.empty()) out << " (" << s.thread_name << ")";
    out << "  " << s.unit << "  " << m.samples << "  " << num(m.min) << " / " << num(m.mean)
        << " / " << num(m.max) << "\n";
  }
  if (skipped) out << "    (" << skipped << " more per-thread series in the JSON report)\n";
}

void correlations_text(const std::vector<Correlation>& cs, std::ostream& out) {
  out << "  correlations (Pearson r, Spearman rho, p-values, n):\n";
  for (const Correlation& c : cs) {
    out << "    " << c.name << ": ";
    if (!c.pearson || !c.spearman) {
      out << "null (" << c.null_reason << ", n=" << c.samples << ")\n";
      continue;
    }
    out << "r=" << num(c.pearson->r) << " (p=" << num(c.pearson->p_value)
        << "), rho=" << num(c.spearman->r) << " (p=" << num(c.spearman->p_value)
        << "), n=" << c.samples << "\n";
  }
}

void verdict_text(const ProcessInsights& in, std::ostream& out) {
  out << "  primary bottleneck: " << in.verdict.bottleneck << "\n";
  for (const Evidence& e : in.verdict.evidence)
    if (!e.caveat)
      out << "    " << e.name << " = " << num(e.value) << (e.met ? " >= " : " < ")
          << num(e.threshold) << "\n";
  for (const Evidence& e : in.verdict.evidence) {
    if (!e.caveat) continue;
    if (e.name == "profiler_wait_share")
      out << "    caution: the threads waited on memscope " << num(100 * e.value)
          << "% of their time (>= " << num(100 * e.threshold)
          << "%): left out of their blocked time, but the program ran slower than it would alone\n";
    else
      out << "    caution: memscope's sidecar used " << num(100 * e.value)
          << "% of the usable cores (>= " << num(100 * e.threshold)
          << "%): CPU the program could not have\n";
  }
  auto score = [](const std::optional<double>& s) { return s ? num(*s) : std::string("n/a"); };
  out << "  efficiency scores: cpu " << score(in.scores.cpu) << ", memory "
      << score(in.scores.memory) << ", io " << score(in.scores.io) << "\n";
}

void hardware_text(const HardwareFigures& h, std::ostream& out) {
  if (!h.available) {
    out << "  hardware counters: not available (perf_event_open: " << h.reason << ")\n";
    return;
  }
  auto shown = [](const std::optional<double>& v) { return v ? num(*v) : std::string("n/a"); };
  out << "  hardware counters" << (h.user_only ? " (user space only)" : "") << ": IPC "
      << shown(h.ipc) << ", LLC misses per 1000 instructions "
      << shown(h.llc_misses_per_kilo_instruction) << ", backend stalls "
      << (h.stalled_backend_share ? num(100 * *h.stalled_backend_share) + "%" : "n/a")
      << " of cycles";
  if (h.counted_share && *h.counted_share < 1)
    out << " (multiplexed: counted " << num(100 * *h.counted_share) << "% of the time, scaled)";
  out << "\n";
}

void ranking_text(const std::vector<RankedThread>& ranked, std::ostream& out) {
  if (ranked.empty()) return;
  out << "  threads by efficiency (on-CPU % of life, user / system %, run-queue wait %, "
         "memscope wait %, voluntary switches/s; * = exact life, else sampled):\n";
  size_t shown = 0;
  auto opt_pct = [](const std::optional<double>& s, double span) {
    return s ? num(100 * *s / span) : std::string("n/a");
  };
  for (const RankedThread& r : ranked) {
    if (shown++ == 8) break;
    const ThreadFigures& t = *r.figures;
    out << "    " << t.tid << " " << t.name << (t.exact ? "*" : "") << ": "
        << num(r.efficiency_score) << ", " << opt_pct(t.user_s, t.span_s) << " / "
        << opt_pct(t.system_s, t.span_s) << ", " << opt_pct(t.run_queue_wait_s, t.span_s) << ", "
        << num(100 * t.profiler_wait_s / t.span_s) << ", "
        << (t.voluntary_switches_per_sec ? num(*t.voluntary_switches_per_sec) : "n/a") << "\n";
  }
  if (ranked.size() > 8) out << "    (" << ranked.size() - 8 << " more in the JSON report)\n";
}

}  // namespace

ProcessInsights compute_insights(const ProcessAnalysis& p, const SiteNamer& name_site) {
  ProcessInsights in;
  in.sampled = !p.metric_samples().empty();
  in.series = extract_series(p);
  for (const MetricSeries& s : in.series) in.series_summaries.push_back(summarize(s));
  std::vector<AlignedSample> aligned = align(p);
  in.correlations = correlations(aligned);
  in.figures = compute_figures(p, aligned);
  in.verdict = decide_bottleneck(in.figures);
  in.scores = efficiency_scores(in.figures);
  in.ranking = rank_threads(in.figures);
  in.recommendations = recommend(p, in.figures, name_site);
  return in;
}

void add_insights_json(const ProcessInsights& in, nlohmann::json& process) {
  json series = json::array();
  for (size_t i = 0; i < in.series.size(); ++i)
    series.push_back(series_json(in.series[i], in.series_summaries[i]));
  process["metrics"]["series"] = series;
  process["correlations"] = correlations_json(in.correlations);
  process["performance_insights"] = {
      {"primary_bottleneck",
       in.verdict.bottleneck.empty() ? json(nullptr) : json(in.verdict.bottleneck)},
      {"evidence", evidence_json(in.verdict.evidence)},
      {"cpu_efficiency_score", opt(in.scores.cpu)},
      {"memory_efficiency_score", opt(in.scores.memory)},
      {"io_efficiency_score", opt(in.scores.io)},
      {"figures", figures_json(in.figures)},
      {"hardware_counters", hardware_json(in.figures.hardware)},
      {"thread_performance_ranking", ranking_json(in.ranking)},
      {"recommendations", recommendations_json(in.recommendations)}};
}

void insights_text(const ProcessInsights& in, std::ostream& out) {
  if (!in.sampled) {
    out << "  insights: no metric samples recorded\n";
    return;
  }
  series_text(in, out);
  correlations_text(in.correlations, out);
  verdict_text(in, out);
  hardware_text(in.figures.hardware, out);
  ranking_text(in.ranking, out);
  for (const Recommendation& r : in.recommendations)
    out << "  recommendation: " << r.message << "\n";
}

}  // namespace memscope::analyzer::insights
