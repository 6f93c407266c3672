// See export_html.hpp. The template holds one marker inside its data script element; the
// escaped JSON replaces it. The template itself comes from the generated report_template.cpp.
#include "analyzer/export_html.hpp"

#include <fstream>

namespace memscope::analyzer {
namespace {

// Written by report/src/bundle.js; it checks that the marker occurs exactly once.
constexpr std::string_view kDataMarker = "/*MEMSCOPE_ANALYSIS_JSON*/";

}  // namespace

std::string escape_json_for_script(std::string_view json_text) {
  std::string out;
  out.reserve(json_text.size() + json_text.size() / 16);
  for (size_t i = 0; i < json_text.size(); ++i) {
    char c = json_text[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < json_text.size() && json_text[i + 1] == '\x80' &&
               (json_text[i + 2] == '\xA8' || json_text[i + 2] == '\xA9')) {
      // U+2028/U+2029 (UTF-8 E2 80 A8/A9): line terminators to older JavaScript parsers.
      out += json_text[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string html_report(std::string_view analysis_json) {
  std::string data = escape_json_for_script(analysis_json);
  std::string_view page = html_report_template();
  size_t at = page.find(kDataMarker);
  std::string out;
  if (at == std::string_view::npos) return out;  // cannot happen: the build checks the marker
  out.reserve(page.size() + data.size());
  out.append(page.substr(0, at));
  out.append(data);
  out.append(page.substr(at + kDataMarker.size()));
  return out;
}

bool write_html_report(std::string_view analysis_json, const std::string& path,
                       std::string& error) {
  std::string page = html_report(analysis_json);
  if (page.empty()) {
    error = "the compiled-in report template has no data marker";
    return false;
  }
  std::ofstream out(path, std::ios::binary);
  if (!(out << page) || !out.flush()) {
    error = "cannot write " + path;
    return false;
  }
  return true;
}

}  // namespace memscope::analyzer
