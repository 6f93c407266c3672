// The CI gate of memscope-analyze: `--fail-on EXPR` rules such as `leaked_bytes>0`,
// `peak_heap_bytes>256MiB` or `primary_bottleneck==ContentionBound`, parsed before any trace is
// read (a malformed rule is a usage error) and checked against the typed analysis (its summary,
// verdicts and leak rows), so the gate judges exactly the figures the reports show
// (docs/exports.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analyzer/analysis_report.hpp"

namespace memscope::analyzer {

enum class CompareOp { kGreater, kGreaterEqual, kLess, kLessEqual, kEqual, kNotEqual };

struct GateRule {
  std::string text;   // the expression as given, for messages and JUnit test names
  std::string field;  // a `summary` field, or "primary_bottleneck"
  CompareOp op = CompareOp::kGreater;
  long double number = 0;  // numeric fields: the threshold, units applied
  std::string word;        // primary_bottleneck: the verdict compared with
};

// Parses one expression; on failure returns nothing and sets `error` to why.
std::optional<GateRule> parse_gate_rule(const std::string& text, std::string& error);

struct GateResult {
  const GateRule* rule = nullptr;
  bool broken = false;
  std::string detail;  // the measured value(s), and which processes broke a per-process rule
};

// Checks every rule against the analysis.
std::vector<GateResult> check_gate(const std::vector<GateRule>& rules,
                                   const AnalysisReport& report);

// A byte count for people: "737.3 KiB (754992 bytes)".
std::string describe_bytes(uint64_t bytes);

}  // namespace memscope::analyzer
