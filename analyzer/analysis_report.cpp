// See analysis_report.hpp.
#include "analyzer/analysis_report.hpp"

#include <algorithm>

#include "analyzer/leak_kinds.hpp"

namespace memscope::analyzer {
namespace {

SiteRow site_row(uint64_t pid, const SiteView& site) {
  SiteRow row;
  row.pid = pid;
  if (const Frame* f = site.function()) {
    row.function = frame_name(*f);
    row.file = f->file;
    row.line = f->line;
  }
  row.allocations = site.stats->counts.allocations;
  row.allocated_bytes = site.stats->counts.allocated_bytes;
  row.live_allocations = site.stats->live_allocations;
  row.live_bytes = site.stats->live_bytes;
  row.suppressed_by = site.suppressed_by;
  return row;
}

ProcessReport process_report(const TracedProcess& tp, const ProcessHeapView& v) {
  const ProcessAnalysis& p = *tp.analysis;
  ProcessReport r;
  r.traced = &tp;
  r.heap = &v;
  r.pid = p.info().pid;
  r.name = process_name(p.info());
  r.complete = p.read_result().complete;
  r.warning = p.read_result().error;
  r.summary = summarize(v);
  r.insights = insights::compute_insights(p, site_namer(v));
  return r;
}

// Each process's sites are sorted by allocated bytes already: its first kTopSites are the only
// candidates.
std::vector<SiteRow> top_sites(const AnalysisReport& report) {
  std::vector<SiteRow> rows;
  for (const ProcessReport& p : report.processes)
    for (size_t i = 0; i < std::min(kTopSites, p.heap->sites.size()); ++i)
      if (site_bytes(*p.heap->sites[i].stats) > 0)
        rows.push_back(site_row(p.pid, p.heap->sites[i]));
  std::stable_sort(rows.begin(), rows.end(), [](const SiteRow& a, const SiteRow& b) {
    return a.allocated_bytes > b.allocated_bytes;
  });
  if (rows.size() > kTopSites) rows.resize(kTopSites);
  return rows;
}

}  // namespace

AnalysisReport build_analysis_report(const Session& session, Symbolizer& symbolizer,
                                     const SuppressionList& suppressions) {
  AnalysisReport report;
  report.session = &session;
  report.heap = build_heap_report(session, symbolizer, suppressions);
  report.summary = summarize(session, report.heap);
  for (size_t i = 0; i < session.processes.size(); ++i) {
    const ProcessHeapView& v = report.heap.processes[i];
    report.processes.push_back(process_report(*session.processes[i], v));
    const ProcessReport& p = report.processes.back();
    for (size_t s : v.leak_sites) {
      SiteRow row = site_row(p.pid, v.sites[s]);
      row.kinds = site_leak_kinds(*p.traced->analysis, v.sites[s].stats->stack_id);
      report.leaks.push_back(std::move(row));
    }
  }
  report.top_sites = top_sites(report);
  return report;
}

std::string process_label(const ProcessReport& p) {
  return p.name + " (pid " + std::to_string(p.pid) + ")";
}

}  // namespace memscope::analyzer
