// memscope-analyze: reads traces (files or directories) and reports.
// Exit status: 0 success, 1 bad usage, 2 no readable trace among the inputs.
#include <cstring>
#include <fstream>
#include <iostream>

#include "analyzer/export_html.hpp"
#include "analyzer/heap_report.hpp"
#include "analyzer/report_json.hpp"
#include "analyzer/report_text.hpp"
#include "analyzer/session.hpp"

namespace {

constexpr const char* kUsage =
    "usage: memscope-analyze TRACE_OR_DIR... [--json FILE] [--html FILE] [--top N] [--no-symbols]\n"
    "                        [--quiet]\n"
    "  TRACE_OR_DIR  memscope trace files (*.mst) or directories holding them\n"
    "  --json FILE   also write the analysis as JSON (schema memscope-analysis/1); - for stdout\n"
    "  --html FILE   also write a self-contained HTML report (charts, flame graph, tables)\n"
    "  --top N       allocation sites to list per process in the text report (default 5)\n"
    "  --no-symbols  show frames as module+0xoffset, without reading debug information\n"
    "  --quiet       no text report\n";

int usage_error(const std::string& message) {
  std::cerr << "memscope-analyze: " << message << "\n" << kUsage;
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> inputs;
  std::string json_path;
  std::string html_path;
  size_t top = 5;
  bool quiet = false;
  bool symbols = true;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--html") {
      if (i + 1 >= argc) return usage_error(arg + " needs a value");
      html_path = argv[++i];
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
    } else if (arg == "--quiet") {
      quiet = true;
    } else if (arg == "--no-symbols") {
      symbols = false;
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage_error("unknown option " + arg);
    } else {
      inputs.push_back(arg);
    }
  }
  if (inputs.empty()) return usage_error("no trace given");

  memscope::analyzer::Session session = memscope::analyzer::analyze(inputs);
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
  memscope::analyzer::HeapReport heap = memscope::analyzer::build_heap_report(session, symbolizer);
  if (!quiet) memscope::analyzer::text_report(session, heap, std::cout, top);
  if (!json_path.empty()) {
    std::string text = memscope::analyzer::json_report(session, heap)
                           .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
                       "\n";  // names need not be UTF-8
    if (json_path == "-") {
      std::cout << text;
    } else {
      std::ofstream out(json_path);
      if (!(out << text)) {
        std::cerr << "memscope-analyze: cannot write " << json_path << "\n";
        return 1;
      }
    }
  }
  if (!html_path.empty()) {
    std::string error;
    if (!memscope::analyzer::write_html_report(memscope::analyzer::json_report(session, heap),
                                               html_path, error)) {
      std::cerr << "memscope-analyze: " << error << "\n";
      return 1;
    }
  }
  return 0;
}
