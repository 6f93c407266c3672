// `memscope-analyze compare BASELINE CURRENT`: what grew and what shrank between two runs
// (totals, peak, leaks, allocation sites matched by symbolized stack, threads matched by name),
// and with `--max-regression PCT` a CI gate on the growth of the main totals. Each side is a
// trace, a directory of traces, or an analysis JSON file written by `--json`.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace memscope::analyzer {

// The comparison of two reports in memscope-analysis/1's shape, into which every version is read
// (schema memscope-compare/1, docs/exports.md): totals, the `top` sites whose allocated bytes
// changed most, leaks new in `current`, threads.
nlohmann::json compare_reports(const nlohmann::json& baseline, const nlohmann::json& current,
                               size_t top);

// Totals among total_allocated_bytes, peak_heap_bytes, leaked_bytes and total_allocations that
// grew by more than `max_percent` percent, one line each (growth from zero always counts).
std::vector<std::string> regressions(const nlohmann::json& comparison, double max_percent);

// The stack a site is matched by: each frame's function and file:line, never an address
// (a module's offset only where a frame has no name).
std::string site_key(const nlohmann::json& site);

// The subcommand; `args` are the arguments after "compare". Returns the exit status: 0, 1 bad
// usage, 2 a side without a readable trace, 3 a regression above --max-regression.
int run_compare(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace memscope::analyzer
