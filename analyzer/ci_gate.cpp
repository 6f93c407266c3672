// See ci_gate.hpp. Numbers compare as long double: exact for every count below 2^64 on x86-64,
// so `total_allocations==1204160` means what it says.
#include "analyzer/ci_gate.hpp"

#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "analyzer/leak_kinds.hpp"
#include "analyzer/summary_json.hpp"

namespace memscope::analyzer {
namespace {

constexpr std::array<const char*, 21> kNumericFields = {"total_allocations",
                                                        "total_frees",
                                                        "total_allocated_bytes",
                                                        "peak_heap_bytes",
                                                        "leaked_allocations",
                                                        "leaked_bytes",
                                                        "discarded_by_exec_allocations",
                                                        "discarded_by_exec_bytes",
                                                        "threads",
                                                        "dropped_events",
                                                        "unmatched_frees",
                                                        "definitely_lost_allocations",
                                                        "definitely_lost_bytes",
                                                        "indirectly_lost_allocations",
                                                        "indirectly_lost_bytes",
                                                        "possibly_lost_allocations",
                                                        "possibly_lost_bytes",
                                                        "reachable_at_exit_allocations",
                                                        "reachable_at_exit_bytes",
                                                        "suppressed_blocks",
                                                        "suppressed_bytes"};

constexpr std::array<const char*, 6> kBottlenecks = {"CpuBound", "MemoryBound",     "IoBound",
                                                     "GpuBound", "ContentionBound", "Balanced"};

// Longest operators first, so `>=` is not read as `>` followed by `=5`.
constexpr std::array<std::pair<const char*, CompareOp>, 6> kOps = {
    {{">=", CompareOp::kGreaterEqual},
     {"<=", CompareOp::kLessEqual},
     {"==", CompareOp::kEqual},
     {"!=", CompareOp::kNotEqual},
     {">", CompareOp::kGreater},
     {"<", CompareOp::kLess}}};

// Decimal (1000^n) and binary (1024^n) units, as people write sizes in CI configs.
constexpr std::array<std::pair<const char*, long double>, 9> kUnits = {{{"KiB", 1024.0L},
                                                                        {"MiB", 1048576.0L},
                                                                        {"GiB", 1073741824.0L},
                                                                        {"TiB", 1099511627776.0L},
                                                                        {"KB", 1e3L},
                                                                        {"MB", 1e6L},
                                                                        {"GB", 1e9L},
                                                                        {"TB", 1e12L},
                                                                        {"B", 1.0L}}};

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

template <size_t N>
bool one_of(const std::string& s, const std::array<const char*, N>& names) {
  for (const char* n : names)
    if (s == n) return true;
  return false;
}

std::optional<long double> parse_number(const std::string& text, std::string& error) {
  const char* begin = text.c_str();
  char* end = nullptr;
  long double value = std::strtold(begin, &end);
  if (end == begin || !std::isdigit(static_cast<unsigned char>(*begin))) {
    error = "expected a number (like 0, 1e6, 256MiB), got '" + text + "'";
    return std::nullopt;
  }
  std::string unit = trim(end);
  if (unit.empty()) return value;
  for (const auto& [name, factor] : kUnits)
    if (unit == name) return value * factor;
  error = "unknown unit '" + unit + "' (use KiB, MiB, GiB, TiB, KB, MB, GB, TB or B)";
  return std::nullopt;
}

bool holds(long double value, CompareOp op, long double threshold) {
  switch (op) {
    case CompareOp::kGreater:
      return value > threshold;
    case CompareOp::kGreaterEqual:
      return value >= threshold;
    case CompareOp::kLess:
      return value < threshold;
    case CompareOp::kLessEqual:
      return value <= threshold;
    case CompareOp::kEqual:
      return value == threshold;
    case CompareOp::kNotEqual:
      return value != threshold;
  }
  return false;
}

// Every figure a rule names is about the whole run, which an incomplete trace cannot vouch for:
// a leak freed after the cut, a peak reached after it. Empty when every trace is complete.
std::string incomplete_traces(const AnalysisReport& report) {
  std::string out;
  for (const ProcessReport& p : report.processes) {
    if (p.complete) continue;
    out += (out.empty() ? "" : "; ") + process_label(p) + " has an incomplete trace (" +
           (p.warning.empty() ? std::string("no reason given") : p.warning) + ")";
  }
  return out;
}

// An incomplete trace breaks the rule whatever the figure says, and the detail says why.
void fail_unless_complete(GateResult& r, const AnalysisReport& report) {
  std::string incomplete = incomplete_traces(report);
  if (incomplete.empty()) return;
  r.broken = true;
  r.detail += ", which cannot be vouched for: " + incomplete;
}

GateResult check_bottleneck(const GateRule& rule, const AnalysisReport& report) {
  GateResult r{&rule, false, {}};
  std::string seen;
  for (const ProcessReport& p : report.processes) {
    const std::string& v = p.insights.verdict.bottleneck;
    // A process without any measured figure has no verdict: it can break no bottleneck rule.
    if (v.empty()) continue;
    bool match = v == rule.word;
    bool broken = rule.op == CompareOp::kEqual ? match : !match;
    if (!seen.empty()) seen += ", ";
    seen += process_label(p) + ": " + v;
    if (broken) r.broken = true;
  }
  r.detail = seen.empty() ? "no process has a verdict" : seen;
  fail_unless_complete(r, report);
  return r;
}

// The index of a leak kind's name (definitely_lost, ...), if `kind` is one.
std::optional<size_t> kind_index(const std::string& kind) {
  for (size_t k = 0; k < format::kLeakKinds; ++k)
    if (kind == kLeakKindNames[k]) return k;
  return std::nullopt;
}

// A summary field by its JSON name; empty for a leak kind no scan measured.
std::optional<uint64_t> summary_field(const Summary& s, const std::string& field) {
  for (const auto& [name, value] : summary_fields(s))
    if (field == name) return value;
  return std::nullopt;
}

// For a broken leak rule: "; largest: FUNCTION (FILE:LINE), N bytes" from the report's leaks,
// by the rule's kind (leaked_*: all live blocks; suppressed_*: the suppressed leaks only).
std::string largest_leak(const std::string& field, const AnalysisReport& report) {
  size_t cut = field.rfind('_');
  std::string kind = field.substr(0, cut);
  bool suppressed = kind == "suppressed";
  if (field.rfind("leaked_", 0) != 0 && field.find("_lost_") == std::string::npos && !suppressed)
    return {};
  std::optional<size_t> k = kind_index(kind);
  const SiteRow* best = nullptr;
  uint64_t best_bytes = 0;
  for (const SiteRow& leak : report.leaks) {
    if (leak.suppressed_by.has_value() != suppressed) continue;
    uint64_t bytes = kind == "leaked" || suppressed ? leak.live_bytes
                     : leak.kinds && k              ? (*leak.kinds)[*k].bytes
                                                    : 0;
    if (bytes > best_bytes) best = &leak, best_bytes = bytes;
  }
  if (best == nullptr) return {};
  std::string where = best->function.value_or("an unknown function");
  if (!best->file.empty() && best->line != 0)
    where += " (" + best->file + ":" + std::to_string(best->line) + ")";
  return "; largest: " + where + ", " + describe_bytes(best_bytes);
}

// Fields a sampled trace still knows exactly: the agent's counters, and what is not the heap.
constexpr std::array<const char*, 5> kExactWhenSampled = {
    "total_allocations", "total_frees", "total_allocated_bytes", "threads", "dropped_events"};

// The first sampled process (memscope-run --sample-bytes) whose exact totals are known, or
// whose trace has none at all; null when every process was traced exactly.
const ProcessReport* sampled_process(const AnalysisReport& report, const std::string& field) {
  for (const ProcessReport& p : report.processes) {
    if (p.traced == nullptr) continue;
    const HeapEstimates* e = p.traced->analysis->estimates();
    if (e != nullptr && (!one_of(field, kExactWhenSampled) || e->sampling.phase == 0)) return &p;
  }
  return nullptr;
}

GateResult check_number(const GateRule& rule, const AnalysisReport& report) {
  GateResult r{&rule, false, {}};
  // An estimate can cross a threshold by chance: a gate on it would pass or fail at random.
  if (const ProcessReport* p = sampled_process(report, rule.field)) {
    r.broken = true;
    r.detail = rule.field + " is only estimated in the sampled trace of " + process_label(*p) +
               " (memscope-run --sample-bytes): a rule on it cannot be checked; gate a sampled "
               "run on total_allocations, total_frees or total_allocated_bytes, or trace without "
               "--sample-bytes";
    return r;
  }
  std::optional<uint64_t> value = summary_field(report.summary, rule.field);
  // A leak kind no scan measured (a killed process, a fork child) cannot be shown to hold.
  if (!value) {
    r.broken = true;
    r.detail = rule.field +
               " is unknown (no complete leak scan, or a suppressed site without kinds of its "
               "own; see processes[].leak_check)";
    fail_unless_complete(r, report);
    return r;
  }
  r.broken = holds(static_cast<long double>(*value), rule.op, rule.number);
  r.detail = rule.field + " is " +
             (rule.field.find("bytes") != std::string::npos ? describe_bytes(*value)
                                                            : std::to_string(*value));
  fail_unless_complete(r, report);
  if (r.broken) r.detail += largest_leak(rule.field, report);
  return r;
}

}  // namespace

std::optional<GateRule> parse_gate_rule(const std::string& text, std::string& error) {
  GateRule rule;
  rule.text = text;
  size_t at = text.find_first_of("<>=!");
  if (at == std::string::npos) {
    error = "no comparison operator (one of > >= < <= == !=)";
    return std::nullopt;
  }
  size_t op_len = 0;
  for (const auto& [symbol, op] : kOps) {
    if (text.compare(at, std::char_traits<char>::length(symbol), symbol) == 0) {
      rule.op = op;
      op_len = std::char_traits<char>::length(symbol);
      break;
    }
  }
  if (op_len == 0) {
    error = "no comparison operator (one of > >= < <= == !=)";
    return std::nullopt;
  }
  rule.field = trim(text.substr(0, at));
  std::string value = trim(text.substr(at + op_len));
  if (rule.field == "primary_bottleneck") {
    if (rule.op != CompareOp::kEqual && rule.op != CompareOp::kNotEqual) {
      error = "primary_bottleneck compares with == or != only";
      return std::nullopt;
    }
    if (!one_of(value, kBottlenecks)) {
      error = "unknown bottleneck '" + value +
              "' (CpuBound, MemoryBound, IoBound, GpuBound, ContentionBound, Balanced)";
      return std::nullopt;
    }
    rule.word = value;
    return rule;
  }
  if (!one_of(rule.field, kNumericFields)) {
    error = "unknown field '" + rule.field +
            "' (a summary field such as leaked_bytes, peak_heap_bytes, total_allocations, or "
            "primary_bottleneck)";
    return std::nullopt;
  }
  std::optional<long double> number = parse_number(value, error);
  if (!number) return std::nullopt;
  rule.number = *number;
  return rule;
}

std::vector<GateResult> check_gate(const std::vector<GateRule>& rules,
                                   const AnalysisReport& report) {
  std::vector<GateResult> out;
  for (const GateRule& rule : rules)
    out.push_back(rule.field == "primary_bottleneck" ? check_bottleneck(rule, report)
                                                     : check_number(rule, report));
  return out;
}

std::string describe_bytes(uint64_t bytes) {
  constexpr std::array<const char*, 4> kNames = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  double v = static_cast<double>(bytes);
  size_t unit = 0;
  v /= 1024;
  while (v >= 1024 && unit + 1 < kNames.size()) {
    v /= 1024;
    ++unit;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.1f %s (%llu bytes)", v, kNames[unit],
                static_cast<unsigned long long>(bytes));
  return buf;
}

}  // namespace memscope::analyzer
