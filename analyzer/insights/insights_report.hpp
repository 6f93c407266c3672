// The insights of one process, computed once into a typed ProcessInsights (the metric series
// with their summaries, correlations, figures, verdict with evidence, scores, thread ranking and
// recommendations), then written in the two report formats: JSON (metrics.series, correlations,
// performance_insights) and compact text tables. Both read the same struct.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "analyzer/insights/bottleneck.hpp"
#include "analyzer/insights/correlations.hpp"
#include "analyzer/insights/figures.hpp"
#include "analyzer/insights/metric_series.hpp"
#include "analyzer/insights/recommendations.hpp"
#include "analyzer/process_analysis.hpp"

namespace memscope::analyzer::insights {

struct ProcessInsights {
  bool sampled = false;  // the trace has metric samples (without, the text says so and no more)
  std::vector<MetricSeries> series;
  std::vector<SeriesSummary> series_summaries;  // one per series, in the same order
  std::vector<Correlation> correlations;
  ProcessFigures figures;
  Verdict verdict;
  Scores scores;
  std::vector<RankedThread> ranking;  // points into figures.threads
  std::vector<Recommendation> recommendations;

  ProcessInsights() = default;
  // Moving keeps figures.threads' storage, so `ranking` stays valid; a copy would not.
  ProcessInsights(ProcessInsights&&) = default;
  ProcessInsights& operator=(ProcessInsights&&) = default;
  ProcessInsights(const ProcessInsights&) = delete;
  ProcessInsights& operator=(const ProcessInsights&) = delete;
};

// `name_site` names allocation sites in recommendations as the heap report does.
ProcessInsights compute_insights(const ProcessAnalysis& p, const SiteNamer& name_site);

// Extends process["metrics"] (keeping samples/undecodable_samples) with `series`, and adds
// process["correlations"] and process["performance_insights"].
void add_insights_json(const ProcessInsights& in, nlohmann::json& process);

// Metric table, correlations, verdict with evidence, scores, thread ranking, recommendations.
void insights_text(const ProcessInsights& in, std::ostream& out);

}  // namespace memscope::analyzer::insights
