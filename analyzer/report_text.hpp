// The human report printed by default, per process: the summary line, the top allocation sites
// by bytes, by count and at the peak with their symbolized stacks, the top functions, leaks, a
// thread table and the insights; then the totals.
#pragma once

#include <ostream>

#include "analyzer/analysis_report.hpp"

namespace memscope::analyzer {

void text_report(const AnalysisReport& report, std::ostream& out, size_t top);

}  // namespace memscope::analyzer
