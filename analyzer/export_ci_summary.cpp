// See export_ci_summary.hpp. Untrusted strings (symbols, paths, thread names) are escaped for
// the format they land in: a function name must not open a table cell or an XML element.
#include "analyzer/export_ci_summary.hpp"

#include <algorithm>
#include <sstream>

#include "analyzer/leak_kinds.hpp"
#include "analyzer/summary_json.hpp"

namespace memscope::analyzer {
namespace {

constexpr size_t kTop = 5;

// Inside a GitHub-flavoured Markdown table: no HTML, no cell break, no line break.
std::string md(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '|':
        out += "\\|";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '`':
        out += "\\`";
        break;
      case '*':
        out += "\\*";
        break;
      case '_':
        out += "\\_";
        break;
      case '\n':
      case '\r':
        out += ' ';
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string with_commas(uint64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string location(const SiteRow& site) {
  if (site.file.empty()) return "";
  return site.file + (site.line ? ":" + std::to_string(site.line) : "");
}

std::string function_of(const SiteRow& site) {
  return site.function.value_or("(no stack)");
}

// How people read the four kinds, in format::LeakKind order (kLeakKindNames).
constexpr const char* kKindWords[format::kLeakKinds] = {"definitely lost", "indirectly lost",
                                                        "possibly lost", "still reachable"};

// "1.0 KiB (1024 bytes) in 2 blocks", or "unknown" when no scan measured the kind.
std::string kind_total(const Summary& summary, size_t kind) {
  if (!summary.leak_kinds) return "unknown";
  const format::KindCount& c = (*summary.leak_kinds)[kind];
  return describe_bytes(c.bytes) + " in " + with_commas(c.blocks) + " blocks";
}

// A leak's leading kind in words, "unknown" when the scan did not record it.
std::string leak_kind(const SiteRow& leak) {
  std::optional<format::LeakKind> kind = leak.kinds ? leading_kind(*leak.kinds) : std::nullopt;
  return kind ? kKindWords[static_cast<size_t>(*kind)] : "unknown";
}

void totals_md(const AnalysisReport& report, std::ostream& out) {
  const Summary& s = report.summary;
  out << "| figure | value |\n|---|---:|\n"
      << "| allocations | " << with_commas(s.total_allocations) << " |\n"
      << "| frees | " << with_commas(s.total_frees) << " |\n"
      << "| allocated | " << describe_bytes(s.total_allocated_bytes) << " |\n"
      << "| peak heap | " << describe_bytes(s.peak_heap_bytes) << " |\n"
      << "| leaked | " << describe_bytes(s.leaked_bytes) << " in "
      << with_commas(s.leaked_allocations) << " blocks |\n";
  for (size_t k = 0; k < format::kLeakKinds; ++k)
    out << "| " << kKindWords[k] << " | " << kind_total(s, k) << " |\n";
  out << "| suppressed | " << describe_bytes(s.suppressed.bytes) << " in "
      << with_commas(s.suppressed.blocks) << " blocks |\n"
      << "| threads | " << s.threads << " |\n";
  for (const ProcessReport& p : report.processes) {
    const std::string& bottleneck = p.insights.verdict.bottleneck;
    std::string verdict = bottleneck.empty() ? "no figures measured" : bottleneck;
    out << "| bottleneck of " << md(process_label(p)) << " | " << md(verdict) << " |\n";
  }
}

void sites_md(const AnalysisReport& report, std::ostream& out) {
  out << "\n### Top allocation sites\n\n";
  if (report.top_sites.empty()) {
    out << "No allocations recorded.\n";
    return;
  }
  out << "| function | where | pid | allocations | bytes | leaked "
         "|\n|---|---|---:|---:|---:|---:|\n";
  for (const SiteRow& s : report.top_sites)
    out << "| " << md(function_of(s)) << " | " << md(location(s)) << " | " << s.pid << " | "
        << with_commas(s.allocations) << " | " << describe_bytes(s.allocated_bytes) << " | "
        << describe_bytes(s.live_bytes) << " |\n";
}

// The leaks a suppression matched, or those it did not, largest first (at most kTop), and how
// many there are in all.
std::vector<const SiteRow*> top_leaks(const AnalysisReport& report, bool suppressed,
                                      size_t& count) {
  std::vector<const SiteRow*> out;
  count = 0;
  for (const SiteRow& leak : report.leaks) {
    if (leak.suppressed_by.has_value() != suppressed) continue;
    ++count;
    if (leak.live_bytes > 0) out.push_back(&leak);
  }
  std::stable_sort(out.begin(), out.end(), [](const SiteRow* a, const SiteRow* b) {
    return a->live_bytes > b->live_bytes;
  });
  if (out.size() > kTop) out.resize(kTop);
  return out;
}

void leaks_md(const AnalysisReport& report, std::ostream& out) {
  out << "\n### Leaks\n\n";
  size_t leaks = 0;
  std::vector<const SiteRow*> top = top_leaks(report, false, leaks);
  if (top.empty()) {
    out << "No leaks: every block was freed"
        << (report.summary.suppressed.blocks ? " or suppressed" : "") << ".\n";
  } else {
    out << "| function | where | pid | kind | blocks | bytes |\n|---|---|---:|---|---:|---:|\n";
    for (const SiteRow* s : top)
      out << "| " << md(function_of(*s)) << " | " << md(location(*s)) << " | " << s->pid << " | "
          << leak_kind(*s) << " | " << with_commas(s->live_allocations) << " | "
          << describe_bytes(s->live_bytes) << " |\n";
    if (leaks > top.size())
      out << "\n" << leaks - top.size() << " more leaking sites in the full report.\n";
  }
  size_t suppressed = 0;
  std::vector<const SiteRow*> shown = top_leaks(report, true, suppressed);
  if (suppressed == 0) return;
  out << "\n" << suppressed << " suppressed leaking sites, not counted above";
  if (shown.size() < suppressed) out << " (the largest " << shown.size() << ")";
  out << ":\n\n| function | rule | kind | blocks | bytes |\n|---|---|---|---:|---:|\n";
  for (const SiteRow* s : shown)
    out << "| " << md(function_of(*s)) << " | " << md("leak:" + s->suppressed_by->pattern) << " | "
        << leak_kind(*s) << " | " << with_commas(s->live_allocations) << " | "
        << describe_bytes(s->live_bytes) << " |\n";
}

// The kinds' totals as JUnit properties, "unknown" where no scan measured them.
void properties_xml(const Summary& summary, std::ostream& out) {
  out << "    <properties>\n";
  for (size_t k = 0; k < format::kLeakKinds; ++k) {
    const format::KindCount* c = summary.leak_kinds ? &(*summary.leak_kinds)[k] : nullptr;
    for (const char* unit : {"_bytes", "_allocations"}) {
      bool bytes = unit[1] == 'b';
      std::string value = c ? std::to_string(bytes ? c->bytes : c->blocks) : std::string("unknown");
      out << "      <property name=\"" << kLeakKindNames[k] << unit << "\" value=\"" << value
          << "\"/>\n";
    }
  }
  out << "      <property name=\"suppressed_bytes\" value=\"" << summary.suppressed.bytes
      << "\"/>\n"
      << "      <property name=\"suppressed_blocks\" value=\"" << summary.suppressed.blocks
      << "\"/>\n";
  out << "    </properties>\n";
}

// One line per leaking site: kind, bytes, blocks, where, and the rule when suppressed.
std::string leak_lines(const AnalysisReport& report) {
  std::string out;
  for (const SiteRow& leak : report.leaks) {
    out += "leak: " + leak_kind(leak) + ", " + describe_bytes(leak.live_bytes) + " in " +
           with_commas(leak.live_allocations) + " blocks, " + function_of(leak);
    if (std::string where = location(leak); !where.empty()) out += " (" + where + ")";
    if (leak.suppressed_by) out += ", suppressed by leak:" + leak.suppressed_by->pattern;
    out += "\n";
  }
  return out;
}

void gate_md(const std::vector<GateResult>& gate, std::ostream& out) {
  if (gate.empty()) return;
  out << "\n### Gate\n\n";
  for (const GateResult& r : gate)
    out << "- " << (r.broken ? "**FAILED**" : "passed") << ": " << md(r.rule->text) << " ("
        << md(r.detail) << ")\n";
}

void testcase_xml(const std::string& name, const GateResult* r, std::ostream& out) {
  out << "    <testcase classname=\"memscope\" name=\"" << xml_escape(name) << "\">\n";
  if (r != nullptr && r->broken)
    out << "      <failure type=\"memscope.fail-on\" message=\"" << xml_escape(r->detail) << "\">"
        << xml_escape(r->rule->text + " broken: " + r->detail) << "</failure>\n";
  else if (r != nullptr)
    out << "      <system-out>" << xml_escape(r->detail) << "</system-out>\n";
  out << "    </testcase>\n";
}

}  // namespace

std::string markdown_summary(const AnalysisReport& report, const std::vector<GateResult>& gate) {
  std::ostringstream out;
  const std::vector<ProcessReport>& processes = report.processes;
  out << "## memscope: "
      << (processes.size() == 1 ? md(process_label(processes[0]))
                                : std::to_string(processes.size()) + " processes")
      << "\n\n";
  totals_md(report, out);
  sites_md(report, out);
  leaks_md(report, out);
  gate_md(gate, out);
  return out.str();
}

std::string junit_report(const AnalysisReport& report, const std::vector<GateResult>& gate) {
  size_t failures = static_cast<size_t>(
      std::count_if(gate.begin(), gate.end(), [](const GateResult& r) { return r.broken; }));
  size_t tests = gate.empty() ? 1 : gate.size();
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites name=\"memscope\" tests=\"" << tests << "\" failures=\"" << failures
      << "\">\n"
      << "  <testsuite name=\"memscope\" tests=\"" << tests << "\" failures=\"" << failures
      << "\" errors=\"0\" skipped=\"0\">\n";
  properties_xml(report.summary, out);
  if (gate.empty()) testcase_xml("memscope analysis", nullptr, out);
  for (const GateResult& r : gate) testcase_xml(r.rule->text, &r, out);
  out << "    <system-out>"
      << xml_escape(summary_json(report.summary).dump() + "\n" + leak_lines(report))
      << "</system-out>\n"
      << "  </testsuite>\n</testsuites>\n";
  return out.str();
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters other than tab and newline are not allowed in XML 1.0 at all.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n')
          out += ' ';
        else
          out += c;
    }
  }
  return out;
}

}  // namespace memscope::analyzer
