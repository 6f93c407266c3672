// The analysis of one profiled region: memscope-analyze's engine run on the region's window of
// the process's trace, its typed AnalysisReport turned into the public ProfileAnalysis.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "analyzer/analysis_report.hpp"
#include "memscope/memscope.hpp"

namespace memscope::api {

struct RegionResult {
  ProfileAnalysis analysis;  // typed fields filled
  std::string json;          // the JSON report (memscope-analyze --json) of the same analysis
};

// Throws ProfilingError when the trace cannot be read.
RegionResult analyze_region(const std::string& trace_path, uint64_t begin_ns, uint64_t end_ns);
// The typed view of the analysis's first process (exposed for tests).
ProfileAnalysis analysis_from_report(const analyzer::AnalysisReport& report);
bool write_text_file(const std::filesystem::path& path, const std::string& text);
// The HTML report of `report_json` (the analysis JSON) written to `path`.
bool write_html_file(const std::filesystem::path& path, const std::string& report_json,
                     std::string& error);

}  // namespace memscope::api
