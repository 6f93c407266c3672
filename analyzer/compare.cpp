// See compare.hpp. Both sides become the same view first, the figures compare reads in version 1's
// shape: a stored report of either version is converted, a trace side taken from its typed
// analysis (as `--json` would judge it), so a stored report and a fresh trace compare alike.
#include "analyzer/compare.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "analyzer/analysis_report.hpp"
#include "analyzer/heap_report.hpp"
#include "analyzer/json_columns.hpp"
#include "analyzer/report_json.hpp"
#include "analyzer/session.hpp"
#include "analyzer/summary_json.hpp"

namespace memscope::analyzer {
namespace {

using nlohmann::json;

constexpr std::array<const char*, 9> kTotals = {
    "total_allocations", "total_frees",        "total_allocated_bytes",
    "peak_heap_bytes",   "leaked_allocations", "leaked_bytes",
    "threads",           "dropped_events",     "unmatched_frees"};

constexpr std::array<const char*, 4> kGated = {"total_allocated_bytes", "peak_heap_bytes",
                                               "leaked_bytes", "total_allocations"};

constexpr const char* kUsage =
    "usage: memscope-analyze compare BASELINE CURRENT [--max-regression PCT] [--json FILE]\n"
    "                                [--top N] [--no-symbols] [--suppressions FILE]\n"
    "                                [--no-default-suppressions]\n"
    "  BASELINE, CURRENT    traces, directories of traces, or analysis JSON files (--json)\n"
    "  --max-regression PCT exit 3 when total_allocated_bytes, peak_heap_bytes, leaked_bytes or\n"
    "                       total_allocations grew by more than PCT percent\n"
    "  --json FILE          also write the comparison as JSON (memscope-compare/1); - for stdout\n"
    "  --top N              sites listed (default 10)\n"
    "  --no-symbols         analyse traces without reading debug information\n"
    "  --suppressions FILE  leak:PATTERN rules for the leaks of traces (repeatable; a JSON side\n"
    "                       keeps the suppressions it was written with)\n"
    "  --no-default-suppressions  without memscope's built-in leak suppressions\n";

// Reports come from files (baselines kept by users, possibly older or hand-edited), so a key may
// be missing: nlohmann's const operator[] on a missing key is undefined behaviour, this is null.
const json& member(const json& j, const char* key) {
  static const json kMissing;
  if (!j.is_object()) return kMissing;
  auto it = j.find(key);
  return it == j.end() ? kMissing : *it;
}

uint64_t get_u64(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

json change(uint64_t before, uint64_t after) {
  json percent = before == 0 ? json(nullptr)
                             : json((static_cast<double>(after) - static_cast<double>(before)) /
                                    static_cast<double>(before) * 100.0);
  return {{"baseline", before},
          {"current", after},
          {"delta", static_cast<int64_t>(after) - static_cast<int64_t>(before)},
          {"percent", percent}};
}

std::string base_name(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string frame_key(const json& f) {
  std::string name =
      member(f, "function").is_string() ? member(f, "function").get<std::string>() : "";
  if (name.empty())
    name = (member(f, "module").is_string() ? base_name(member(f, "module").get<std::string>())
                                            : "?") +
           "+" + (member(f, "offset").is_string() ? member(f, "offset").get<std::string>() : "?");
  // The file's name only: the same source built in another directory (another checkout, a CI
  // machine, a relative path from a compiler cache) is the same frame.
  if (member(f, "file").is_string()) name += " " + base_name(member(f, "file").get<std::string>());
  if (member(f, "line").is_number())
    name += ":" + std::to_string(member(f, "line").get<uint64_t>());
  return name;
}

// A frame in memscope's own agent. Reports from agents that kept their wrappers mid-stack (the
// pthread_create wrapper, where glibc allocates a new thread's TLS) hold such frames; a site of
// such a baseline is the same site without them, wherever the agent's own lines have moved.
bool agent_frame(const json& f) {
  return member(f, "module").is_string() &&
         base_name(member(f, "module").get<std::string>()) == "libmemscope_agent.so";
}

struct SiteFigures {
  const json* example = nullptr;  // a site with this key, for function/file/line
  uint64_t allocations = 0, allocated_bytes = 0, leaked_bytes = 0, leaked_allocations = 0;
};

// Sites of every process summed by key: pids differ between runs, stacks do not.
std::map<std::string, SiteFigures> sites_by_key(const json& report) {
  std::map<std::string, SiteFigures> out;
  for (const json& s : member(report, "sites")) {
    SiteFigures& f = out[site_key(s)];
    if (f.example == nullptr) f.example = &s;
    f.allocations += get_u64(s, "allocations");
    f.allocated_bytes += get_u64(s, "allocated_bytes");
    f.leaked_bytes += get_u64(s, "leaked_bytes");
    f.leaked_allocations += get_u64(s, "leaked_allocations");
  }
  return out;
}

json site_change(const std::string& key, const SiteFigures& b, const SiteFigures& c) {
  const json& ex = c.example ? *c.example : *b.example;
  return {{"key", key},
          {"function", member(ex, "function")},
          {"file", member(ex, "file")},
          {"line", member(ex, "line")},
          {"status", b.example == nullptr   ? "new"
                     : c.example == nullptr ? "gone"
                                            : "both"},
          {"allocations", change(b.allocations, c.allocations)},
          {"allocated_bytes", change(b.allocated_bytes, c.allocated_bytes)},
          {"leaked_bytes", change(b.leaked_bytes, c.leaked_bytes)},
          {"leaked_allocations", change(b.leaked_allocations, c.leaked_allocations)}};
}

uint64_t magnitude(const json& c) {
  int64_t d = member(c, "delta").get<int64_t>();
  return d < 0 ? static_cast<uint64_t>(-d) : static_cast<uint64_t>(d);
}

json compare_sites(const json& baseline, const json& current, size_t top) {
  std::map<std::string, SiteFigures> b = sites_by_key(baseline), c = sites_by_key(current);
  std::vector<json> changed;
  for (const auto& [key, figures] : c)
    changed.push_back(site_change(key, b.count(key) ? b[key] : SiteFigures{}, figures));
  for (const auto& [key, figures] : b)
    if (!c.count(key)) changed.push_back(site_change(key, figures, SiteFigures{}));
  std::erase_if(changed, [](const json& s) {
    return magnitude(member(s, "allocated_bytes")) == 0 &&
           magnitude(member(s, "allocations")) == 0 && magnitude(member(s, "leaked_bytes")) == 0;
  });
  std::stable_sort(changed.begin(), changed.end(), [](const json& x, const json& y) {
    return magnitude(member(x, "allocated_bytes")) > magnitude(member(y, "allocated_bytes"));
  });
  if (changed.size() > top) changed.resize(top);
  return changed;
}

struct ThreadFigures {
  uint64_t threads = 0, allocations = 0, allocated_bytes = 0, live_bytes = 0, cpu_time_ns = 0;
};

std::map<std::string, ThreadFigures> threads_by_name(const json& report) {
  std::map<std::string, ThreadFigures> out;
  for (const json& t : member(report, "threads")) {
    ThreadFigures& f =
        out[member(t, "name").is_string() ? member(t, "name").get<std::string>() : ""];
    ++f.threads;
    f.allocations += get_u64(t, "allocations");
    f.allocated_bytes += get_u64(t, "allocated_bytes");
    f.live_bytes += get_u64(t, "live_bytes");
    f.cpu_time_ns += get_u64(t, "cpu_time_ns");
  }
  return out;
}

json compare_threads(const json& baseline, const json& current) {
  std::map<std::string, ThreadFigures> b = threads_by_name(baseline), c = threads_by_name(current);
  std::map<std::string, bool> names;
  for (const auto& [name, f] : b) names[name] = true;
  for (const auto& [name, f] : c) names[name] = true;
  json out = json::array();
  for (const auto& [name, unused] : names) {
    ThreadFigures x = b.count(name) ? b[name] : ThreadFigures{};
    ThreadFigures y = c.count(name) ? c[name] : ThreadFigures{};
    out.push_back({{"name", name},
                   {"threads", change(x.threads, y.threads)},
                   {"allocations", change(x.allocations, y.allocations)},
                   {"allocated_bytes", change(x.allocated_bytes, y.allocated_bytes)},
                   {"live_bytes", change(x.live_bytes, y.live_bytes)},
                   {"cpu_time_ns", change(x.cpu_time_ns, y.cpu_time_ns)}});
  }
  return out;
}

std::string signed_text(const json& c) {
  int64_t d = member(c, "delta").get<int64_t>();
  std::string text = (d > 0 ? "+" : "") + std::to_string(d);
  if (member(c, "percent").is_number()) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), " (%+.1f%%)", member(c, "percent").get<double>());
    text += buf;
  } else if (d > 0) {
    text += " (new)";
  }
  return text;
}

void print_totals(const json& cmp, std::ostream& out) {
  out << "totals                       baseline        current  change\n";
  for (const char* field : kTotals) {
    const json& c = member(member(cmp, "totals"), field);
    char buf[160];
    std::snprintf(buf, sizeof(buf), "  %-22s %14llu %14llu  ", field,
                  static_cast<unsigned long long>(get_u64(c, "baseline")),
                  static_cast<unsigned long long>(get_u64(c, "current")));
    out << buf << signed_text(c) << "\n";
  }
}

void print_sites(const json& cmp, std::ostream& out) {
  out << "\nsites that changed most (allocated bytes; matched by symbolized stack):\n";
  if (member(cmp, "sites").empty()) out << "  none changed\n";
  for (const json& s : member(cmp, "sites")) {
    std::string where =
        member(s, "function").is_string() ? member(s, "function").get<std::string>() : "(no stack)";
    if (member(s, "file").is_string()) where += "  " + member(s, "file").get<std::string>();
    if (member(s, "line").is_number())
      where += ":" + std::to_string(member(s, "line").get<uint64_t>());
    std::string status =
        member(s, "status") == "both" ? "" : "[" + member(s, "status").get<std::string>() + "] ";
    out << "  " << status << where << "\n      bytes " << signed_text(member(s, "allocated_bytes"))
        << ", allocations " << signed_text(member(s, "allocations")) << ", leaked bytes "
        << signed_text(member(s, "leaked_bytes")) << "\n";
  }
}

void print_threads(const json& cmp, std::ostream& out) {
  out << "\nthreads (matched by name):\n";
  for (const json& t : member(cmp, "threads"))
    out << "  "
        << (member(t, "name").get<std::string>().empty() ? "(unnamed)"
                                                         : member(t, "name").get<std::string>())
        << " x" << get_u64(member(t, "threads"), "current") << ": allocations "
        << signed_text(member(t, "allocations")) << ", bytes "
        << signed_text(member(t, "allocated_bytes")) << ", live bytes "
        << signed_text(member(t, "live_bytes")) << ", cpu ns "
        << signed_text(member(t, "cpu_time_ns")) << "\n";
}

// A frame of a version 2 document's tables as a version 1 frame object.
json frame_v1(const json& doc, const json& index) {
  const json& frames = member(doc, "frames");
  const json& strings = member(doc, "strings");
  auto column = [&](const char* name) -> json {
    const json& c = member(frames, name);
    return index.is_number_unsigned() && c.is_array() && index.get<size_t>() < c.size()
               ? c[index.get<size_t>()]
               : json(nullptr);
  };
  auto text = [&](const char* name) -> json {
    json i = column(name);
    return i.is_number_unsigned() && strings.is_array() && i.get<size_t>() < strings.size()
               ? strings[i.get<size_t>()]
               : json(nullptr);
  };
  return {{"function", text("function")},
          {"file", text("file")},
          {"line", column("line")},
          {"module", text("module")},
          {"offset", column("offset")}};
}

// The frames of a version 2 stack, innermost first (bounded against a damaged parent chain).
json stack_v1(const json& doc, json stack) {
  const json& stacks = member(doc, "stacks");
  const json& frame = member(stacks, "frame");
  const json& parent = member(stacks, "parent");
  json out = json::array();
  while (stack.is_number_unsigned() && frame.is_array() && parent.is_array() &&
         stack.get<size_t>() < frame.size() && stack.get<size_t>() < parent.size() &&
         out.size() < frame.size()) {
    out.push_back(frame_v1(doc, frame[stack.get<size_t>()]));
    stack = parent[stack.get<size_t>()];
  }
  return out;
}

// A table of columns as an array of row objects (a column too short reads as null).
json table_rows(const json& table) {
  size_t n = 0;
  if (table.is_object())
    for (const auto& [name, column] : table.items())
      if (column.is_array()) n = std::max(n, column.size());
  json out = json::array();
  for (size_t i = 0; i < n; ++i) {
    json row = json::object();
    for (const auto& [name, column] : table.items())
      row[name] = column.is_array() && i < column.size() ? column[i] : json(nullptr);
    out.push_back(std::move(row));
  }
  return out;
}

// Version 3 gives a site's function frame as its depth in the site's stack: the frame itself, as
// version 2 wrote it, goes in `function_frame` (bounded against a damaged parent chain).
void add_function_frames(json& doc) {
  json& sites = doc["sites"];
  if (!sites.is_object() || !member(sites, "function_depth").is_array()) return;
  const json& frame = member(member(doc, "stacks"), "frame");
  const json& parent = member(member(doc, "stacks"), "parent");
  json frames = json::array();
  const json& stack = member(sites, "stack");
  for (size_t i = 0; i < sites["function_depth"].size(); ++i) {
    json at = stack.is_array() && i < stack.size() ? stack[i] : json(nullptr);
    const json& depth = sites["function_depth"][i];
    for (size_t up = 0; depth.is_number_unsigned() && up < depth.get<size_t>() &&
                        at.is_number_unsigned() && at.get<size_t>() < parent.size();
         ++up)
      at = parent[at.get<size_t>()];
    bool inside = depth.is_number_unsigned() && at.is_number_unsigned() && frame.is_array() &&
                  at.get<size_t>() < frame.size();
    frames.push_back(inside ? frame[at.get<size_t>()] : json(nullptr));
  }
  sites["function_frame"] = std::move(frames);
}

// What compare reads of a version 2 or 3 document (summary, sites with their stacks, threads)
// in the shape of version 1, so baselines of every version compare alike (version 2's columns
// are plain arrays, which expand_columns keeps as they are).
json version1_view(const json& written) {
  json doc = written;
  for (const char* table : {"frames", "stacks"})  // columns may be encoded
    if (doc.is_object() && doc.contains(table)) doc[table] = expand_columns(doc[table]);
  if (doc.is_object() && doc.contains("sites")) doc["sites"] = expand_sites(doc["sites"]);
  add_function_frames(doc);
  std::set<size_t> inherited;  // each fork child's site of the blocks it inherited
  for (const json& p : member(doc, "processes"))
    if (member(p, "inherited_site").is_number_unsigned())
      inherited.insert(member(p, "inherited_site").get<size_t>());
  json sites = json::array();
  for (const json& s : table_rows(member(doc, "sites"))) {
    json site = s;
    site["inherited"] = inherited.count(sites.size()) != 0;
    site["stack"] = stack_v1(doc, member(s, "stack"));
    json function = frame_v1(doc, member(s, "function_frame"));
    site["function"] = member(function, "function");
    site["file"] = member(function, "file");
    site["line"] = member(function, "line");
    sites.push_back(std::move(site));
  }
  return {{"schema", kJsonSchemaV1},
          {"summary", member(doc, "summary")},
          {"sites", sites},
          {"threads", member(doc, "threads")}};
}

// A frame as version 1 wrote it: what site_key reads.
json frame_object(const Frame& f) {
  auto text = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  return {{"function", text(f.function)},
          {"file", text(f.file)},
          {"line", f.line ? json(f.line) : json(nullptr)},
          {"module", text(f.module)},
          {"offset", f.module.empty() ? json(nullptr) : json(hex_text(f.offset))}};
}

// What compare reads of a fresh analysis, taken from the typed report in version 1's shape.
json version1_view(const AnalysisReport& report) {
  json sites = json::array(), threads = json::array();
  for (const ProcessHeapView& v : report.heap.processes) {
    for (const SiteView& s : v.sites) {
      json stack = json::array();
      for (const Frame* f : s.frames()) stack.push_back(frame_object(*f));
      const Frame* fn = s.function();
      sites.push_back({{"inherited", s.stats->stack_id == kInheritedStack},
                       {"stack", stack},
                       {"function", fn ? json(frame_name(*fn)) : json(nullptr)},
                       {"file", fn && !fn->file.empty() ? json(fn->file) : json(nullptr)},
                       {"line", fn && fn->line ? json(fn->line) : json(nullptr)},
                       {"allocations", s.stats->counts.allocations},
                       {"allocated_bytes", s.stats->counts.allocated_bytes},
                       {"leaked_bytes", s.stats->live_bytes},
                       {"leaked_allocations", s.stats->live_allocations}});
    }
    for (const ThreadView& t : v.threads)
      threads.push_back({{"name", t.info->name},
                         {"allocations", t.heap.counts.allocations},
                         {"allocated_bytes", t.heap.counts.allocated_bytes},
                         {"live_bytes", t.heap.live_bytes},
                         {"cpu_time_ns", t.cpu_time_ns ? json(*t.cpu_time_ns) : json(nullptr)}});
  }
  return {{"schema", kJsonSchemaV1},
          {"summary", summary_json(report.summary)},
          {"sites", sites},
          {"threads", threads}};
}

bool looks_like_json(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  std::ifstream in(path);
  char c = 0;
  in >> c;  // skips white space
  return c == '{';
}

// One side as an analysis report; nothing (and a message in `error`) when it holds no trace.
std::optional<json> load_side(const std::string& path, bool symbols,
                              const SuppressionList& suppressions, std::string& error) {
  if (looks_like_json(path)) {
    std::ifstream in(path);
    json j = json::parse(in, nullptr, false);
    std::string schema = j.is_object() ? j.value("schema", std::string()) : "";
    if (schema == kJsonSchema || schema == kJsonSchemaV2) return version1_view(j);
    if (schema == kJsonSchemaV1) return j;
    error = path + ": not a " + std::string(kJsonSchema) + ", " + kJsonSchemaV2 + " or " +
            kJsonSchemaV1 + " report";
    return std::nullopt;
  }
  Session session = analyze({path});
  if (session.processes.empty()) {
    error = path + ": no readable trace" +
            (session.errors.empty() ? std::string() : " (" + session.errors.front() + ")");
    return std::nullopt;
  }
  Symbolizer symbolizer(symbols);
  return version1_view(build_analysis_report(session, symbolizer, suppressions));
}

struct CompareOptions {
  std::vector<std::string> sides;
  std::vector<std::string> suppression_files;
  bool default_suppressions = true;
  std::optional<double> max_regression;
  std::string json_path;
  size_t top = 10;
  bool symbols = true;
};

// Parses `args`; returns an error message, empty on success.
std::string parse_options(const std::vector<std::string>& args, CompareOptions& o) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--no-symbols") {
      o.symbols = false;
    } else if (a == "--no-default-suppressions") {
      o.default_suppressions = false;
    } else if (a == "--max-regression" || a == "--json" || a == "--top" || a == "--suppressions") {
      if (i + 1 >= args.size()) return a + " needs a value";
      const std::string& v = args[++i];
      char* end = nullptr;
      if (a == "--json") {
        o.json_path = v;
      } else if (a == "--suppressions") {
        o.suppression_files.push_back(v);
      } else if (a == "--top") {
        long n = std::strtol(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0' || n < 0) return "--top expects a number, got " + v;
        o.top = static_cast<size_t>(n);
      } else {
        double pct = std::strtod(v.c_str(), &end);
        if (v.empty() || *end != '\0' || !(pct >= 0) || std::isinf(pct))
          return "--max-regression expects a percentage (like 10 or 2.5), got " + v;
        o.max_regression = pct;
      }
    } else if (a.size() > 1 && a[0] == '-') {
      return "unknown option " + a;
    } else {
      o.sides.push_back(a);
    }
  }
  return o.sides.size() == 2 ? "" : "compare needs BASELINE and CURRENT";
}

bool write_text(const std::string& path, const std::string& text, std::ostream& out) {
  if (path == "-") return static_cast<bool>(out << text);
  std::ofstream file(path);
  return static_cast<bool>(file << text);
}

}  // namespace

std::string site_key(const json& site) {
  if (site.value("inherited", false)) return "[inherited at fork]";
  if (!site.contains("stack") || member(site, "stack").empty()) return "[no stack recorded]";
  std::string key;
  for (const json& f : member(site, "stack"))
    if (!agent_frame(f)) key += (key.empty() ? "" : " <- ") + frame_key(f);
  return key;
}

json compare_reports(const json& baseline, const json& current, size_t top) {
  json totals = json::object();
  for (const char* field : kTotals)
    totals[field] = change(get_u64(member(baseline, "summary"), field),
                           get_u64(member(current, "summary"), field));
  return {{"schema", "memscope-compare/1"},
          {"totals", totals},
          {"sites", compare_sites(baseline, current, top)},
          {"threads", compare_threads(baseline, current)}};
}

std::vector<std::string> regressions(const json& comparison, double max_percent) {
  std::vector<std::string> out;
  for (const char* field : kGated) {
    const json& c = member(member(comparison, "totals"), field);
    uint64_t before = get_u64(c, "baseline"), after = get_u64(c, "current");
    bool grew = before == 0 ? after > 0 : member(c, "percent").get<double>() > max_percent;
    if (!grew) continue;
    char grew_by[32], allowed[32];
    std::snprintf(grew_by, sizeof(grew_by), "by %.1f%%",
                  before == 0 ? 0.0 : member(c, "percent").get<double>());
    std::snprintf(allowed, sizeof(allowed), "%g%%", max_percent);
    out.push_back(std::string(field) + " grew " + (before == 0 ? "from 0" : grew_by) + " (" +
                  std::to_string(before) + " -> " + std::to_string(after) + "), more than the " +
                  allowed + " allowed");
  }
  return out;
}

int run_compare(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CompareOptions o;
  for (const std::string& a : args)
    if (a == "-h" || a == "--help") return out << kUsage, 0;
  if (std::string e = parse_options(args, o); !e.empty()) {
    err << "memscope-analyze compare: " << e << "\n" << kUsage;
    return 1;
  }
  SuppressionList suppressions;
  if (auto e = load_suppressions(o.suppression_files, o.default_suppressions, suppressions)) {
    err << "memscope-analyze compare: " << *e << "\n";
    return 2;
  }
  std::string error;
  std::optional<json> before = load_side(o.sides[0], o.symbols, suppressions, error);
  std::optional<json> after =
      before ? load_side(o.sides[1], o.symbols, suppressions, error) : std::nullopt;
  if (!after) {
    err << "memscope-analyze compare: " << error << "\n";
    return 2;
  }
  json cmp = compare_reports(*before, *after, o.top);
  cmp["baseline"] = o.sides[0];
  cmp["current"] = o.sides[1];
  bool to_stdout = o.json_path == "-";
  std::ostream& text = to_stdout ? err : out;  // keep stdout pure JSON when it carries JSON
  text << "memscope compare: " << o.sides[0] << " -> " << o.sides[1] << "\n";
  print_totals(cmp, text);
  print_sites(cmp, text);
  print_threads(cmp, text);
  std::vector<std::string> lines;
  if (o.max_regression) lines = regressions(cmp, *o.max_regression);
  cmp["regressions"] = lines;
  if (!o.json_path.empty() &&
      !write_text(o.json_path, cmp.dump(2, ' ', false, json::error_handler_t::replace) + "\n",
                  out)) {
    err << "memscope-analyze compare: cannot write " << o.json_path << "\n";
    return 1;
  }
  for (const std::string& l : lines) err << "memscope-analyze: regression: " << l << "\n";
  return lines.empty() ? 0 : 3;
}

}  // namespace memscope::analyzer
