// memscope-analyze: reads traces (files or directories) and reports.
// Exit status: 0 success, 1 bad usage, 2 no readable trace among the inputs (or a suppressions
// file unreadable or malformed), 3 a --fail-on rule broken; `memscope-analyze compare` exits 3 on a
// regression (docs/exports.md).
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "analyzer/analysis_report.hpp"
#include "analyzer/ci_gate.hpp"
#include "analyzer/compare.hpp"
#include "analyzer/export_chrome_trace.hpp"
#include "analyzer/export_ci_summary.hpp"
#include "analyzer/export_folded.hpp"
#include "analyzer/export_html.hpp"
#include "analyzer/export_pprof.hpp"
#include "analyzer/report_json.hpp"
#include "analyzer/report_text.hpp"
#include "analyzer/session.hpp"

namespace {

constexpr const char* kUsage =
    "usage: memscope-analyze TRACE_OR_DIR... [--json FILE] [--html FILE] [--top N] [--no-symbols]\n"
    "                        [--quiet] [--replay]\n"
    "  TRACE_OR_DIR  memscope trace files (*.mst) or directories holding them\n"
    "  --json FILE   also write the analysis as JSON (schema memscope-analysis/3, every site);\n"
    "                - for stdout\n"
    "  --html FILE   also write a self-contained HTML report (charts, flame graph, tables: the\n"
    "                top sites by each ranking and the largest leaking and peak sites)\n"
    "  --top N       allocation sites to list per process in the text report (default 5)\n"
    "  --no-symbols  show frames as module+0xoffset, without reading debug information\n"
    "  --quiet       no text report\n"
    "  --replay      replay every heap event instead of reading the summary the agent wrote at\n"
    "                the end of the run (slower; the same figures)\n"
    "leak suppressions (docs/analysis.md):\n"
    "  --suppressions FILE        leak:PATTERN lines (LeakSanitizer's syntax; repeatable): a leak\n"
    "                             whose stack has a function, file or module matching PATTERN\n"
    "                             is listed as suppressed and left out of the leak figures\n"
    "  --no-default-suppressions  without memscope's built-in suppressions (the runtime's\n"
    "                             one-time allocations)\n"
    "exports and CI (docs/exports.md):\n"
    "  --pprof FILE          gzipped pprof profile (alloc/inuse objects and space)\n"
    "  --folded FILE         folded stacks for flamegraph.pl, inferno, speedscope\n"
    "  --folded-weight W     bytes (default), count, leaked or peak\n"
    "  --chrome-trace FILE   Trace Event JSON for Perfetto and chrome://tracing\n"
    "  --markdown FILE       short Markdown summary for a CI job page\n"
    "  --junit FILE          JUnit XML: one testcase per --fail-on rule\n"
    "  --fail-on EXPR        exit 3 when EXPR holds (repeatable), e.g. leaked_bytes>0,\n"
    "                        peak_heap_bytes>256MiB, primary_bottleneck==ContentionBound\n"
    "   or: memscope-analyze compare BASELINE CURRENT [--max-regression PCT] [--json FILE]\n"
    "exit status: 0 success, 1 bad usage or unwritable output, 2 no readable trace or a bad\n"
    "             suppressions file, 3 a --fail-on rule broken (compare: a regression above the\n"
    "             limit)\n";

int usage_error(const std::string& message) {
  std::cerr << "memscope-analyze: " << message << "\n" << kUsage;
  return 1;
}

// What the export and CI-gate options asked for (docs/exports.md).
struct Exports {
  std::string pprof, folded, chrome_trace, markdown, junit;
  memscope::analyzer::FoldedWeight folded_weight = memscope::analyzer::FoldedWeight::kBytes;
  std::vector<memscope::analyzer::GateRule> rules;
};

bool is_export_option(const std::string& arg) {
  return arg == "--pprof" || arg == "--folded" || arg == "--folded-weight" ||
         arg == "--chrome-trace" || arg == "--markdown" || arg == "--junit" || arg == "--fail-on";
}

// Takes the option at argv[i] and its value; returns a usage error, empty when fine. Rules are
// parsed here, so a malformed one fails before any trace is read.
std::string take_export_option(int argc, char** argv, int& i, Exports& e) {
  std::string arg = argv[i];
  if (i + 1 >= argc) return arg + " needs a value";
  std::string value = argv[++i];
  if (arg == "--fail-on") {
    std::string error;
    auto rule = memscope::analyzer::parse_gate_rule(value, error);
    if (!rule) return "--fail-on: malformed expression '" + value + "': " + error;
    e.rules.push_back(*rule);
  } else if (arg == "--folded-weight") {
    auto weight = memscope::analyzer::parse_folded_weight(value);
    if (!weight) return "--folded-weight expects bytes, count, leaked or peak, got " + value;
    e.folded_weight = *weight;
  } else {
    std::string* target = arg == "--pprof"          ? &e.pprof
                          : arg == "--folded"       ? &e.folded
                          : arg == "--chrome-trace" ? &e.chrome_trace
                          : arg == "--markdown"     ? &e.markdown
                                                    : &e.junit;
    *target = value;
  }
  return "";
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  if (out << text) return true;
  std::cerr << "memscope-analyze: cannot write " << path << "\n";
  return false;
}

// --json: every site, written as it goes.
bool write_json(const std::string& path, const memscope::analyzer::AnalysisReport& report) {
  if (path == "-") {
    memscope::analyzer::write_json_report(report, std::cout);
    return static_cast<bool>(std::cout.flush());
  }
  std::ofstream out(path, std::ios::binary);
  memscope::analyzer::write_json_report(report, out);
  if (out.flush()) return true;
  std::cerr << "memscope-analyze: cannot write " << path << "\n";
  return false;
}

// --html: the page embeds a bounded document (report_json.hpp, SiteBudget), so that it opens in
// a browser whatever the trace; what it left out is said here and on the page.
bool write_html(const std::string& path, const memscope::analyzer::AnalysisReport& report) {
  namespace ma = memscope::analyzer;
  std::ostringstream text;
  ma::SiteBudget budget;
  ma::JsonWritten written = ma::write_json_report(report, text, budget);
  std::string error;
  if (!ma::write_html_report(text.str(), path, error)) {
    std::cerr << "memscope-analyze: " << error << "\n";
    return false;
  }
  if (written.sites_omitted != 0)
    std::cerr << "memscope-analyze: " << path << " shows " << written.sites << " of "
              << written.sites + written.sites_omitted << " allocation sites (per process the top "
              << budget.per_ranking << " by each ranking and the " << budget.leak_and_peak
              << " largest leaking and peak sites, at most " << budget.sites
              << " in all); --json FILE writes them all\n";
  return true;
}

// Writes the requested exports, then checks the gate: 0, 1 when a file cannot be written, 3
// when a --fail-on rule is broken (one line each on stderr).
int write_exports(const Exports& e, const memscope::analyzer::AnalysisReport& report) {
  namespace ma = memscope::analyzer;
  const ma::HeapReport& heap = report.heap;
  std::string error;
  if (!e.pprof.empty() && !ma::write_pprof(heap, e.pprof, error)) {
    std::cerr << "memscope-analyze: " << error << "\n";
    return 1;
  }
  if (!e.folded.empty()) {
    std::ostringstream folded;
    ma::write_folded(heap, e.folded_weight, folded);
    if (!write_file(e.folded, folded.str())) return 1;
    // The format has no place for a note: the weights of a sampled trace are estimates.
    if (uint64_t mean = ma::sampled_mean_bytes(heap))
      std::cerr << "memscope-analyze: " << e.folded << ": the trace is sampled (one byte in "
                << mean << " on average): its weights are estimates\n";
  }
  std::vector<ma::GateResult> gate = ma::check_gate(e.rules, report);
  auto replace = nlohmann::json::error_handler_t::replace;  // names need not be UTF-8
  if (!e.chrome_trace.empty() &&
      !write_file(e.chrome_trace, ma::chrome_trace(report).dump(-1, ' ', false, replace)))
    return 1;
  if (!e.markdown.empty() && !write_file(e.markdown, ma::markdown_summary(report, gate))) return 1;
  if (!e.junit.empty() && !write_file(e.junit, ma::junit_report(report, gate))) return 1;
  int status = 0;
  for (const ma::GateResult& r : gate) {
    if (!r.broken) continue;
    std::cerr << "memscope-analyze: fail-on " << r.rule->text << ": " << r.detail << "\n";
    status = 3;
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "compare") == 0)
    return memscope::analyzer::run_compare({argv + 2, argv + argc}, std::cout, std::cerr);
  Exports exports;
  std::vector<std::string> inputs;
  std::string json_path;
  std::string html_path;
  size_t top = 5;
  bool quiet = false;
  bool symbols = true;
  bool replay = false;
  std::vector<std::string> suppression_files;
  bool default_suppressions = true;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--html") {
      if (i + 1 >= argc) return usage_error(arg + " needs a value");
      html_path = argv[++i];
    } else if (arg == "--suppressions") {
      if (i + 1 >= argc) return usage_error(arg + " needs a value");
      suppression_files.push_back(argv[++i]);
    } else if (arg == "--no-default-suppressions") {
      default_suppressions = false;
    } else if (arg == "--json" || arg == "--top") {
      if (i + 1 >= argc) return usage_error(arg + " needs a value");
      std::string value = argv[++i];
      if (arg == "--json") {
        json_path = value;
      } else {
        char* end = nullptr;
        long n = std::strtol(value.c_str(), &end, 10);
        if (*end != '\0' || n < 0) return usage_error("--top expects a number, got " + value);
        top = static_cast<size_t>(n);
      }
    } else if (is_export_option(arg)) {
      if (std::string error = take_export_option(argc, argv, i, exports); !error.empty())
        return usage_error(error);
    } else if (arg == "--quiet") {
      quiet = true;
    } else if (arg == "--no-symbols") {
      symbols = false;
    } else if (arg == "--replay") {
      replay = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage_error("unknown option " + arg);
    } else {
      inputs.push_back(arg);
    }
  }
  if (inputs.empty()) return usage_error("no trace given");
  memscope::analyzer::SuppressionList suppressions;
  if (auto error = memscope::analyzer::load_suppressions(suppression_files, default_suppressions,
                                                         suppressions)) {
    std::cerr << "memscope-analyze: " << *error << "\n";
    return 2;
  }

  memscope::analyzer::Session session = memscope::analyzer::analyze(inputs, replay);
  for (const std::string& e : session.errors) std::cerr << "memscope-analyze: " << e << "\n";
  if (session.processes.empty()) {
    std::cerr << "memscope-analyze: nothing to analyze; record a trace with "
                 "`memscope-run -o DIR -- PROGRAM` and pass DIR\n";
    return 2;
  }
  for (const auto& p : session.processes)
    if (!p->analysis->read_result().complete)
      std::cerr << "memscope-analyze: " << p->analysis->path() << ": "
                << p->analysis->read_result().error << "\n";
  memscope::analyzer::Symbolizer symbolizer(symbols);
  // Built once: the text report, the JSON, the page, the exports and the gate read it.
  memscope::analyzer::AnalysisReport report =
      memscope::analyzer::build_analysis_report(session, symbolizer, suppressions);
  if (!quiet) memscope::analyzer::text_report(report, std::cout, top);
  if (!json_path.empty() && !write_json(json_path, report)) return 1;
  if (!html_path.empty() && !write_html(html_path, report)) return 1;
  return write_exports(exports, report);
}
