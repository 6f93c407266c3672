// --html: the self-contained HTML report (report/, docs/report.md). The page is a template built
// from report/src at build time and compiled in (memscope_html); the analysis JSON is spliced
// into it as data, escaped so that no string in it can end the script element holding it.
#pragma once

#include <string>
#include <string_view>

namespace memscope::analyzer {

// JSON text made safe inside <script type="application/json">: '<', '>', '&', U+2028 and
// U+2029 become \u003c, \u003e, \u0026, \u2028, \u2029. Those characters only occur inside JSON
// strings, where the escape means the same character, so JSON.parse reads the same value.
std::string escape_json_for_script(std::string_view json_text);

// The report page with `analysis_json` (a memscope-analysis/3 document's text) embedded.
std::string html_report(std::string_view analysis_json);

// Writes html_report(analysis_json) to `path`; on failure returns false with `error` set.
bool write_html_report(std::string_view analysis_json, const std::string& path, std::string& error);

// The compiled-in template (generated from report/ by report/CMakeLists.txt).
std::string_view html_report_template();

}  // namespace memscope::analyzer
