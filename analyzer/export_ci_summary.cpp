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

// The JSON names of the four kinds and how people read them; a null figure reads "unknown".
constexpr std::pair<const char*, const char*> kKinds[] = {{"definitely_lost", "definitely lost"},
                                                          {"indirectly_lost", "indirectly lost"},
                                                          {"possibly_lost", "possibly lost"},
                                                          {"reachable_at_exit", "still reachable"}};

// "1.0 KiB (1024 bytes) in 2 blocks", or "unknown" when no scan measured the kind.
std::string kind_total(const json& summary, const std::string& kind) {
  auto bytes = summary.find(kind + "_bytes");
  auto blocks = summary.find(kind + "_allocations");
  if (bytes == summary.end() || !bytes->is_number_unsigned() || blocks == summary.end() ||
      !blocks->is_number_unsigned())
    return "unknown";
  return describe_bytes(bytes->get<uint64_t>()) + " in " + with_commas(blocks->get<uint64_t>()) +
         " blocks";
}

// A leak's leading kind in words, "unknown" when the scan did not record it.
std::string leak_kind(const json& leak) {
  std::string kind = text_of(leak, "kind");
  for (const auto& [name, words] : kKinds)
    if (kind == name) return words;
  return "unknown";
}

void totals_md(const json& report, std::ostream& out) {
  const json& s = report["summary"];
  out << "| figure | value |\n|---|---:|\n"
      << "| allocations | " << with_commas(get_u64(s, "total_allocations")) << " |\n"
      << "| frees | " << with_commas(get_u64(s, "total_frees")) << " |\n"
      << "| allocated | " << describe_bytes(get_u64(s, "total_allocated_bytes")) << " |\n"
      << "| peak heap | " << describe_bytes(get_u64(s, "peak_heap_bytes")) << " |\n"
      << "| leaked | " << describe_bytes(get_u64(s, "leaked_bytes")) << " in "
      << with_commas(get_u64(s, "leaked_allocations")) << " blocks |\n";
  for (const auto& [name, words] : kKinds)
    out << "| " << words << " | " << kind_total(s, name) << " |\n";
  out << "| suppressed | " << describe_bytes(get_u64(s, "suppressed_bytes")) << " in "
      << with_commas(get_u64(s, "suppressed_blocks")) << " blocks |\n"
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

// The leaks a suppression matched, or those it did not.
json leaks_where(const json& report, bool suppressed) {
  json out = json::array();
  for (const json& leak : report["leaks"])
    if (leak.value("suppressed", false) == suppressed) out.push_back(leak);
  return out;
}

void leaks_md(const json& report, std::ostream& out) {
  out << "\n### Leaks\n\n";
  json leaks = leaks_where(report, false);
  std::vector<const json*> top = top_of(leaks, "bytes");
  if (top.empty()) {
    out << "No leaks: every block was freed"
        << (get_u64(report["summary"], "suppressed_blocks") ? " or suppressed" : "") << ".\n";
  } else {
    out << "| function | where | pid | kind | blocks | bytes |\n|---|---|---:|---|---:|---:|\n";
    for (const json* s : top)
      out << "| " << md(text_of(*s, "function", "(no stack)")) << " | " << md(location(*s)) << " | "
          << get_u64(*s, "pid") << " | " << leak_kind(*s) << " | "
          << with_commas(get_u64(*s, "allocations")) << " | "
          << describe_bytes(get_u64(*s, "bytes")) << " |\n";
    if (leaks.size() > top.size())
      out << "\n" << leaks.size() - top.size() << " more leaking sites in the full report.\n";
  }
  json suppressed = leaks_where(report, true);
  if (suppressed.empty()) return;
  out << "\n" << suppressed.size() << " suppressed leaking sites, not counted above";
  std::vector<const json*> shown = top_of(suppressed, "bytes");
  if (shown.size() < suppressed.size()) out << " (the largest " << shown.size() << ")";
  out << ":\n\n| function | rule | kind | blocks | bytes |\n|---|---|---|---:|---:|\n";
  for (const json* s : shown) {
    const json& rule = s->value("suppression", json());
    out << "| " << md(text_of(*s, "function", "(no stack)")) << " | "
        << md(rule.is_object() ? text_of(rule, "rule") : std::string()) << " | " << leak_kind(*s)
        << " | " << with_commas(get_u64(*s, "allocations")) << " | "
        << describe_bytes(get_u64(*s, "bytes")) << " |\n";
  }
}

// The kinds' totals as JUnit properties, "unknown" where no scan measured them.
void properties_xml(const json& summary, std::ostream& out) {
  out << "    <properties>\n";
  for (const auto& [name, words] : kKinds)
    for (const char* unit : {"_bytes", "_allocations"}) {
      std::string key = std::string(name) + unit;
      auto it = summary.find(key);
      std::string value = it != summary.end() && it->is_number_unsigned()
                              ? std::to_string(it->get<uint64_t>())
                              : "unknown";
      out << "      <property name=\"" << key << "\" value=\"" << value << "\"/>\n";
    }
  for (const char* key : {"suppressed_bytes", "suppressed_blocks"})
    out << "      <property name=\"" << key << "\" value=\"" << get_u64(summary, key) << "\"/>\n";
  out << "    </properties>\n";
}

// One line per leaking site: kind, bytes, blocks, where, and the rule when suppressed.
std::string leak_lines(const json& report) {
  std::string out;
  for (const json& leak : report["leaks"]) {
    out += "leak: " + leak_kind(leak) + ", " + describe_bytes(get_u64(leak, "bytes")) + " in " +
           with_commas(get_u64(leak, "allocations")) + " blocks, " +
           text_of(leak, "function", "(no stack)");
    if (std::string where = location(leak); !where.empty()) out += " (" + where + ")";
    const json& rule = leak.value("suppression", json());
    if (rule.is_object()) out += ", suppressed by " + text_of(rule, "rule");
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
  const json& s = report["summary"];
  properties_xml(s, out);
  if (gate.empty()) testcase_xml("memscope analysis", nullptr, out);
  for (const GateResult& r : gate) testcase_xml(r.rule->text, &r, out);
  out << "    <system-out>" << xml_escape(s.dump() + "\n" + leak_lines(report)) << "</system-out>\n"
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
