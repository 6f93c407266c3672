// Unit tests of the HTML report's data embedding (analyzer/export_html): no string in the
// analysis can end the script element that holds it, and the page's JSON reads back equal.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "analyzer/export_html.hpp"

using memscope::analyzer::escape_json_for_script;
using memscope::analyzer::html_report;
using nlohmann::json;

namespace {

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1))
    ++n;
  return n;
}

// The text of the data element, as the page's script reads it.
std::string embedded(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"memscope-data\">";
  size_t from = page.find(open);
  REQUIRE(from != std::string::npos);
  from += open.size();
  size_t to = page.find("</script>", from);
  REQUIRE(to != std::string::npos);
  return page.substr(from, to - from);
}

}  // namespace

TEST_CASE("markup characters and JavaScript line terminators are escaped") {
  CHECK(escape_json_for_script(R"({"a":"</script><b>&amp;"})") ==
        R"({"a":"\u003c/script\u003e\u003cb\u003e\u0026amp;"})");
  CHECK(escape_json_for_script("\"\xE2\x80\xA8\xE2\x80\xA9\"") == "\"\\u2028\\u2029\"");
  // Other multi-byte characters pass unchanged, also ones starting with E2 80.
  CHECK(escape_json_for_script("\"\xE2\x80\x94 \xC3\xA9\"") == "\"\xE2\x80\x94 \xC3\xA9\"");
  CHECK(escape_json_for_script("\"\xE2\x80\"") == "\"\xE2\x80\"");  // cut sequence: left as is
}

TEST_CASE("hostile strings stay inside the data element and read back equal") {
  json analysis = {
      {"schema", "memscope-analysis/3"},
      {"threads", {{{"name", "<img src=x onerror=alert(1)>"}}}},
      {"argv", {"</script><script>alert(2)</script>", "<!-- x", "a\xE2\x80\xA8z", "& &lt;"}},
      {"processes", json::array()}};
  std::string page = html_report(analysis.dump());
  REQUIRE(!page.empty());
  CHECK(page.find("MEMSCOPE_ANALYSIS_JSON") == std::string::npos);
  std::string template_text(memscope::analyzer::html_report_template());
  // The data adds no script end tag, no comment opener and no raw '<' of its own.
  CHECK(count(page, "</script") == count(template_text, "</script"));
  CHECK(count(page, "<!--") == count(template_text, "<!--"));
  std::string data = embedded(page);
  CHECK(data.find('<') == std::string::npos);
  CHECK(data.find('>') == std::string::npos);
  CHECK(data.find('&') == std::string::npos);
  CHECK(data.find("\xE2\x80\xA8") == std::string::npos);
  CHECK(json::parse(data) == analysis);
}

TEST_CASE("the document is embedded as given") {
  std::string text = "{\"name\":\"bad \xEF\xBF\xBD byte\"}";
  CHECK(embedded(html_report(text)) == text);
}
