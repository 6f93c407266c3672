// Summaries for CI systems, from the typed analysis and the gate's results: Markdown short
// enough for a job summary page (totals, top 5 sites, leaks, bottleneck, the gate), and JUnit
// XML with one testcase per `--fail-on` rule (or one passing "memscope analysis" without rules).
#pragma once

#include <string>
#include <vector>

#include "analyzer/analysis_report.hpp"
#include "analyzer/ci_gate.hpp"

namespace memscope::analyzer {

std::string markdown_summary(const AnalysisReport& report, const std::vector<GateResult>& gate);

std::string junit_report(const AnalysisReport& report, const std::vector<GateResult>& gate);

// Text made safe inside XML character data and attribute values.
std::string xml_escape(const std::string& text);

}  // namespace memscope::analyzer
