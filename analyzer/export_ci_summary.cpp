// See export_ci_summary.hpp. Untrusted strings (symbols, paths, thread names) are escaped for
// the format they land in: a function name must not open a table cell or an XML element.
#include "analyzer/export_ci_summary.hpp"

#include <algorithm>
#include <sstream>

namespace memscope::analyzer {
namespace {

using nlohmann::json;

constexpr size_t kTop = 5;

uint64_t get_u64(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

std::string text_of(const json& j, const char* key, const char* absent = "") {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : absent;
}

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

std::string process_label(const json& p) {
  // The name it was run by (an argv[0] symlink's, not its target's); a report written before
  // processes had names: the executable's.
  std::string name = text_of(p, "name");
  if (name.empty()) {
    name = text_of(p, "exe");
    name = name.substr(name.rfind('/') + 1);
  }
  return name + " (pid " + std::to_string(get_u64(p, "pid")) + ")";
}

std::string location(const json& site) {
  std::string file = text_of(site, "file");
  if (file.empty()) return "";
  uint64_t line = get_u64(site, "line");
  return file + (line ? ":" + std::to_string(line) : "");
}

void totals_md(const json& report, std::ostream& out) {
  const json& s = report["summary"];
  out << "| figure | value |\n|---|---:|\n"
      << "| allocations | " << with_commas(get_u64(s, "total_allocations")) << " |\n"
      << "| frees | " << with_commas(get_u64(s, "total_frees")) << " |\n"
      << "| allocated | " << describe_bytes(get_u64(s, "total_allocated_bytes")) << " |\n"
      << "| peak heap | " << describe_bytes(get_u64(s, "peak_heap_bytes")) << " |\n"
      << "| leaked | " << describe_bytes(get_u64(s, "leaked_bytes")) << " in "
      << with_commas(get_u64(s, "leaked_allocations")) << " blocks |\n"
      << "| threads | " << get_u64(s, "threads") << " |\n";
  for (const json& p : report["processes"]) {
    std::string verdict = "no figures measured";
    if (p.contains("performance_insights"))
      verdict = text_of(p["performance_insights"], "primary_bottleneck", "no figures measured");
    out << "| bottleneck of " << md(process_label(p)) << " | " << md(verdict) << " |\n";
  }
}

// The sites of every process, largest `key` first, at most kTop.
std::vector<const json*> top_of(const json& list, const char* key) {
  std::vector<const json*> out;
  for (const json& s : list)
    if (get_u64(s, key) > 0) out.push_back(&s);
  std::stable_sort(out.begin(), out.end(), [key](const json* a, const json* b) {
    return get_u64(*a, key) > get_u64(*b, key);
  });
  if (out.size() > kTop) out.resize(kTop);
  return out;
}

void sites_md(const json& report, std::ostream& out) {
  out << "\n### Top allocation sites\n\n";
  std::vector<const json*> top = top_of(report["sites"], "allocated_bytes");
  if (top.empty()) {
    out << "No allocations recorded.\n";
    return;
  }
  out << "| function | where | pid | allocations | bytes | leaked "
         "|\n|---|---|---:|---:|---:|---:|\n";
  for (const json* s : top)
    out << "| " << md(text_of(*s, "function", "(no stack)")) << " | " << md(location(*s)) << " | "
        << get_u64(*s, "pid") << " | " << with_commas(get_u64(*s, "allocations")) << " | "
        << describe_bytes(get_u64(*s, "allocated_bytes")) << " | "
        << describe_bytes(get_u64(*s, "leaked_bytes")) << " |\n";
}

void leaks_md(const json& report, std::ostream& out) {
  out << "\n### Leaks\n\n";
  std::vector<const json*> top = top_of(report["leaks"], "bytes");
  if (top.empty()) {
    out << "No leaks: every block was freed.\n";
    return;
  }
  out << "| function | where | pid | blocks | bytes |\n|---|---|---:|---:|---:|\n";
  for (const json* s : top)
    out << "| " << md(text_of(*s, "function", "(no stack)")) << " | " << md(location(*s)) << " | "
        << get_u64(*s, "pid") << " | " << with_commas(get_u64(*s, "allocations")) << " | "
        << describe_bytes(get_u64(*s, "bytes")) << " |\n";
  if (report["leaks"].size() > top.size())
    out << "\n"
        << report["leaks"].size() - top.size() << " more leaking sites in the full report.\n";
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

std::string markdown_summary(const json& report, const std::vector<GateResult>& gate) {
  std::ostringstream out;
  const json& processes = report["processes"];
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

std::string junit_report(const json& report, const std::vector<GateResult>& gate) {
  size_t failures = static_cast<size_t>(
      std::count_if(gate.begin(), gate.end(), [](const GateResult& r) { return r.broken; }));
  size_t tests = gate.empty() ? 1 : gate.size();
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites name=\"memscope\" tests=\"" << tests << "\" failures=\"" << failures
      << "\">\n"
      << "  <testsuite name=\"memscope\" tests=\"" << tests << "\" failures=\"" << failures
      << "\" errors=\"0\" skipped=\"0\">\n";
  if (gate.empty()) testcase_xml("memscope analysis", nullptr, out);
  for (const GateResult& r : gate) testcase_xml(r.rule->text, &r, out);
  const json& s = report["summary"];
  out << "    <system-out>" << xml_escape(s.dump()) << "</system-out>\n"
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
