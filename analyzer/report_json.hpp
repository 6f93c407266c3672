// The versioned JSON report ("schema": "memscope-analysis/3"), documented field by field in
// docs/json-schema.md. It is one serialiser of the analysis, written as it goes (one site at a
// time, never the whole document in memory): strings, frames and stacks are tables written
// once, and sites, leaks, peaks and functions refer to them by index, so the size grows with
// distinct frames and stacks, not with sites times depth. Every row names its process by `process`,
// the index of its entry in `processes` (an exec'd image keeps its pid but is a process of its
// own).
#pragma once

#include <cstddef>
#include <optional>
#include <ostream>

#include "analyzer/analysis_report.hpp"

namespace memscope::analyzer {

inline constexpr const char* kJsonSchema = "memscope-analysis/3";
// Versions compare still reads (baselines users keep): 2, the previous release's (columns as
// plain arrays, peak site lists written out), and 1, with every site's stack as objects.
inline constexpr const char* kJsonSchemaV2 = "memscope-analysis/2";
inline constexpr const char* kJsonSchemaV1 = "memscope-analysis/1";

// What a bounded report (the HTML page's) keeps: per process the top `per_ranking` sites by each
// ranking (allocated bytes, allocations, temporary allocations, bytes at the peak, leaked bytes)
// and the largest `leak_and_peak` leaking sites and sites live at the peak; of those at most
// `sites` in all, best places first (a process's first sites by every ranking, then its second
// ones, and so on across processes). Everything else is counted in the document's `bounded`
// section, never silently dropped.
struct SiteBudget {
  size_t per_ranking = 200;
  size_t leak_and_peak = 2000;
  size_t sites = 4000;
};

struct JsonWritten {
  size_t sites = 0;          // sites written
  size_t sites_omitted = 0;  // sites a budget left out
};

// Writes the report; with a budget only the sites it keeps (and the stacks they need).
JsonWritten write_json_report(const AnalysisReport& report, std::ostream& out,
                              const std::optional<SiteBudget>& budget = std::nullopt);

}  // namespace memscope::analyzer
