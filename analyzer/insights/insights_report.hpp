// The insights of one process in the two report formats: the metric series' summary, the
// correlations and performance_insights (JSON), and compact tables (text). The report files
// call one function each; everything is computed here from the ProcessAnalysis.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "analyzer/insights/recommendations.hpp"
#include "analyzer/process_analysis.hpp"

namespace memscope::analyzer::insights {

// Extends process["metrics"] (keeping samples/undecodable_samples) with `series`, and adds
// process["correlations"] and process["performance_insights"].
// `name_site` names allocation sites in recommendations as the heap report does.
void add_insights_json(const ProcessAnalysis& p, nlohmann::json& process,
                       const SiteNamer& name_site);

// Metric table, correlations, verdict with evidence, scores, thread ranking, recommendations.
void insights_text(const ProcessAnalysis& p, std::ostream& out, const SiteNamer& name_site);

}  // namespace memscope::analyzer::insights
