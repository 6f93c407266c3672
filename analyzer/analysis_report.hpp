// The typed analysis of a session, computed once per run: the heap report (sites, stacks,
// functions, threads), the summary figures per process and in total, and each process's
// insights. Every output reads it: the text report, the exports, the CI gate and the C++ API;
// JSON is one serialiser among them. The gate, Markdown and JUnit need only the summaries and a
// few sites, so those sites are kept here as small rows (`top_sites`, `leaks`), named as the
// JSON report names them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analyzer/heap_report.hpp"
#include "analyzer/insights/insights_report.hpp"
#include "analyzer/session.hpp"
#include "analyzer/summary.hpp"
#include "analyzer/suppressions.hpp"
#include "analyzer/symbolizer.hpp"
#include "format/leak_scan.hpp"

namespace memscope::analyzer {

// One allocation site as the CI summaries show it: its process, its function frame (as the
// JSON's site `function`, `file` and `line`) and its figures.
struct SiteRow {
  uint64_t pid = 0;
  std::optional<std::string> function;  // none without a stack
  std::string file;                     // empty when unknown
  uint32_t line = 0;                    // 0 when unknown
  uint64_t allocations = 0;
  uint64_t allocated_bytes = 0;
  uint64_t live_allocations = 0;  // live at the end: leaked, or suppressed
  uint64_t live_bytes = 0;
  // Leaking sites: their live blocks by kind, unknown when the scan did not record the site.
  std::optional<format::KindCounts> kinds;
  std::optional<SuppressionRule> suppressed_by;
};

struct ProcessReport {
  const TracedProcess* traced = nullptr;  // null only in reports put together by hand (tests)
  const ProcessHeapView* heap = nullptr;  // into AnalysisReport::heap; null likewise
  uint64_t pid = 0;
  std::string name;      // process_name(): what it was run by
  bool complete = true;  // the trace ends where the process did
  std::string warning;   // why not, when not complete
  Summary summary;       // suppressions applied
  insights::ProcessInsights insights;
};

struct AnalysisReport {
  const Session* session = nullptr;
  HeapReport heap;
  Summary summary;                       // over every process, suppressions applied
  std::vector<ProcessReport> processes;  // in the session's order
  // The largest sites by allocated bytes over every process (at most kTopSites, zero left out;
  // ties in the session's order), and every leaking site, suppressed ones too, by process in
  // the session's order and largest first within one (the JSON's `leaks` order).
  std::vector<SiteRow> top_sites;
  std::vector<SiteRow> leaks;
};

inline constexpr size_t kTopSites = 5;

AnalysisReport build_analysis_report(const Session& session, Symbolizer& symbolizer,
                                     const SuppressionList& suppressions);

// "name (pid N)", as every export names a process.
std::string process_label(const ProcessReport& p);

}  // namespace memscope::analyzer
