// Unit tests of the CI gate's expression parser and results, the CI summaries read from a typed
// analysis put together by hand, and the escaping the exports rely on.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "analyzer/ci_gate.hpp"
#include "analyzer/compare.hpp"
#include "analyzer/export_ci_summary.hpp"
#include "analyzer/export_folded.hpp"

using namespace memscope::analyzer;
namespace format = memscope::format;

namespace {
GateRule parse_ok(const std::string& text) {
  std::string error;
  auto rule = parse_gate_rule(text, error);
  REQUIRE_MESSAGE(rule.has_value(), error);
  return *rule;
}
bool parse_fails(const std::string& text) {
  std::string error;
  bool failed = !parse_gate_rule(text, error).has_value();
  CHECK(failed == !error.empty());
  return failed;
}
// A report put together by hand: the fields the gate and the CI summaries read.
ProcessReport process(uint64_t pid, const char* name, const char* bottleneck = "") {
  ProcessReport p;
  p.pid = pid;
  p.name = name;
  p.insights.verdict.bottleneck = bottleneck;
  return p;
}
AnalysisReport report(uint64_t leaked, const char* bottleneck) {
  AnalysisReport r;
  r.summary.leaked_bytes = leaked;
  r.summary.peak_heap_bytes = 300u << 20;
  r.summary.total_allocations = 7;
  r.processes.push_back(process(42, "app", bottleneck));
  return r;
}
SiteRow leak(const char* function, uint64_t bytes, std::optional<format::LeakKind> kind) {
  SiteRow row;
  row.pid = 42;
  row.function = function;
  row.live_bytes = bytes;
  row.live_allocations = 1;
  if (kind) {
    row.kinds.emplace();
    (*row.kinds)[static_cast<size_t>(*kind)] = {1, bytes};
  }
  return row;
}
}  // namespace

TEST_CASE("gate expressions: operators, units, scientific notation") {
  GateRule r = parse_ok("peak_heap_bytes>256MiB");
  CHECK(r.field == "peak_heap_bytes");
  CHECK(r.op == CompareOp::kGreater);
  CHECK(r.number == 256.0L * 1024 * 1024);
  CHECK(parse_ok("total_allocations>=1e6").number == 1e6L);
  CHECK(parse_ok("total_allocations>=1e6").op == CompareOp::kGreaterEqual);
  CHECK(parse_ok("leaked_bytes <= 2KB").number == 2000.0L);
  CHECK(parse_ok("threads!=4").op == CompareOp::kNotEqual);
  CHECK(parse_ok("threads<4").op == CompareOp::kLess);
  CHECK(parse_ok("leaked_bytes==1.5GiB").number == 1.5L * 1024 * 1024 * 1024);
  CHECK(parse_ok("primary_bottleneck==ContentionBound").word == "ContentionBound");
}

TEST_CASE("malformed gate expressions are refused") {
  CHECK(parse_fails("leaked_bytes"));
  CHECK(parse_fails("leaked_bytes>"));
  CHECK(parse_fails("leaked_bytes>>0"));
  CHECK(parse_fails("leaked_bytes=>0"));
  CHECK(parse_fails("no_such_field>0"));
  CHECK(parse_fails("leaked_bytes>12XB"));
  CHECK(parse_fails("leaked_bytes>-1"));
  CHECK(parse_fails("primary_bottleneck>CpuBound"));
  CHECK(parse_fails("primary_bottleneck==Slow"));
}

TEST_CASE("gate results: numeric on the summary, bottleneck per process") {
  std::vector<GateRule> rules = {parse_ok("leaked_bytes>0"), parse_ok("peak_heap_bytes>256MiB"),
                                 parse_ok("peak_heap_bytes>300MiB"),
                                 parse_ok("primary_bottleneck==ContentionBound"),
                                 parse_ok("primary_bottleneck!=ContentionBound")};
  auto results = check_gate(rules, report(0, "ContentionBound"));
  REQUIRE(results.size() == 5);
  CHECK_FALSE(results[0].broken);
  CHECK(results[1].broken);
  CHECK_FALSE(results[2].broken);  // equal is not greater
  CHECK(results[3].broken);
  CHECK(results[3].detail.find("pid 42") != std::string::npos);
  CHECK_FALSE(results[4].broken);
  CHECK(check_gate(rules, report(1, "Balanced"))[0].broken);
}

TEST_CASE("gate results: an incomplete trace breaks every rule, saying why") {
  std::vector<GateRule> rules = {parse_ok("leaked_bytes>0"), parse_ok("total_allocations<0"),
                                 parse_ok("primary_bottleneck==ContentionBound")};
  AnalysisReport r = report(0, "Balanced");
  CHECK_FALSE(check_gate(rules, r)[0].broken);
  r.processes[0].complete = false;
  r.processes[0].warning = "no end recorded: killed";
  for (const GateResult& g : check_gate(rules, r)) {
    CHECK(g.broken);
    CHECK(g.detail.find("cannot be vouched for: app (pid 42) has an incomplete trace "
                        "(no end recorded: killed)") != std::string::npos);
  }
  r.processes[0].complete = true;
  CHECK_FALSE(check_gate(rules, r)[1].broken);
}

TEST_CASE(
    "gate results: an unmeasured leak kind breaks its rule; a broken rule names the largest "
    "leak") {
  std::vector<GateRule> rules = {parse_ok("definitely_lost_bytes>0"), parse_ok("leaked_bytes>0")};
  AnalysisReport r = report(300, "Balanced");
  r.leaks.push_back(leak("small", 100, format::LeakKind::kDefinitelyLost));
  r.leaks.push_back(leak("large", 200, std::nullopt));
  r.leaks.back().file = "x.c";
  r.leaks.back().line = 7;
  auto results = check_gate(rules, r);
  CHECK(results[0].broken);
  CHECK(results[0].detail.find("definitely_lost_bytes is unknown") == 0);
  CHECK(results[1].detail == "leaked_bytes is 300 bytes; largest: large (x.c:7), 200 bytes");
  r.summary.leak_kinds.emplace();
  (*r.summary.leak_kinds)[0] = {1, 100};
  results = check_gate(rules, r);
  CHECK(results[0].detail == "definitely_lost_bytes is 100 bytes; largest: small, 100 bytes");
}

TEST_CASE("escaping") {
  CHECK(folded_frame_name("a;b\nc") == "a,b c");
  CHECK(xml_escape("<a href=\"x\">&'") == "&lt;a href=&quot;x&quot;&gt;&amp;&apos;");
}

TEST_CASE("compare: sites matched by symbolized stack, regressions over the limit") {
  auto frame = [](const char* fn, int line, const char* addr) {
    return nlohmann::json{{"function", fn}, {"file", "x.c"},   {"line", line},    {"module", "/a"},
                          {"offset", addr}, {"address", addr}, {"inlined", false}};
  };
  // The same stack at other addresses (another build, ASLR) is the same site.
  nlohmann::json site1 = {{"allocations", 10u},
                          {"allocated_bytes", 1000u},
                          {"stack", {frame("f", 3, "0x10"), frame("main", 9, "0x20")}}};
  nlohmann::json site2 = {{"allocations", 20u},
                          {"allocated_bytes", 2500u},
                          {"stack", {frame("f", 3, "0x99"), frame("main", 9, "0x77")}}};
  CHECK(site_key(site1) == site_key(site2));
  // The same source built in another directory (a baseline from another checkout) too.
  nlohmann::json moved = site2;
  moved["stack"][0]["file"] = "/elsewhere/src/x.c";
  moved["stack"][1]["file"] = "../../x.c";
  CHECK(site_key(moved) == site_key(site1));
  nlohmann::json before = {
      {"summary", {{"total_allocated_bytes", 1000u}, {"total_allocations", 10u}}},
      {"sites", {site1}},
      {"threads", nlohmann::json::array()}};
  nlohmann::json after = {
      {"summary", {{"total_allocated_bytes", 2500u}, {"total_allocations", 20u}}},
      {"sites", {site2}},
      {"threads", nlohmann::json::array()}};
  nlohmann::json cmp = compare_reports(before, after, 10);
  REQUIRE(cmp["sites"].size() == 1);
  CHECK(cmp["sites"][0]["status"] == "both");
  CHECK(cmp["sites"][0]["function"].is_null());  // these sites name no function: null, not UB
  CHECK(cmp["sites"][0]["allocated_bytes"]["delta"] == 1500);
  CHECK(regressions(cmp, 100).size() == 1);  // bytes +150 %; allocations +100 % is not above
  CHECK(regressions(cmp, 200).empty());
  CHECK(regressions(cmp, 50).size() == 2);
}

TEST_CASE("markdown and JUnit show each leak's kind and the kinds' totals, unknown when null") {
  AnalysisReport r = report(300, "");
  r.summary.leaked_allocations = 1;
  r.summary.leak_kinds.emplace();
  (*r.summary.leak_kinds)[static_cast<size_t>(format::LeakKind::kDefinitelyLost)] = {1, 300};
  (*r.summary.leak_kinds)[static_cast<size_t>(format::LeakKind::kReachable)] = {1, 64};
  r.summary.suppressed = {1, 200};
  r.leaks.push_back(leak("real_leak", 300, format::LeakKind::kDefinitelyLost));
  r.leaks.push_back(leak("cache_leak", 200, format::LeakKind::kDefinitelyLost));
  r.leaks.back().suppressed_by = SuppressionRule{"cache", "s:1"};
  r.leaks.push_back(leak("no_scan", 8, std::nullopt));
  std::string md = markdown_summary(r, {});
  CHECK(md.find("## memscope: app (pid 42)") == 0);
  CHECK(md.find("| bottleneck of app (pid 42) | no figures measured |") != std::string::npos);
  CHECK(md.find("| definitely lost | 300 bytes in 1 blocks |") != std::string::npos);
  CHECK(md.find("| still reachable | 64 bytes in 1 blocks |") != std::string::npos);
  CHECK(md.find("| suppressed | 200 bytes in 1 blocks |") != std::string::npos);
  CHECK(md.find("| real\\_leak |  | 42 | definitely lost | 1 | 300 bytes |") != std::string::npos);
  CHECK(md.find("| no\\_scan |  | 42 | unknown |") != std::string::npos);
  CHECK(md.find("No allocations recorded.") != std::string::npos);
  // The suppressed leak is only in its own table, with its rule.
  size_t apart = md.find("suppressed leaking sites");
  REQUIRE(apart != std::string::npos);
  CHECK(md.find("cache\\_leak") > apart);
  CHECK(md.find("leak:cache") > apart);

  r.summary.leak_kinds.reset();
  md = markdown_summary(r, {});
  CHECK(md.find("| definitely lost | unknown |") != std::string::npos);
  CHECK(md.find("| possibly lost | unknown |") != std::string::npos);
  CHECK(md.find("| definitely lost | 0") == std::string::npos);
  std::string xml = junit_report(r, {});
  CHECK(xml.find("<property name=\"definitely_lost_bytes\" value=\"unknown\"/>") !=
        std::string::npos);
  CHECK(xml.find("<property name=\"suppressed_bytes\" value=\"200\"/>") != std::string::npos);
  CHECK(xml.find("leak: definitely lost, 200 bytes in 1 blocks, cache_leak, suppressed by "
                 "leak:cache") != std::string::npos);
  CHECK(xml.find("leak: unknown, 8 bytes in 1 blocks, no_scan") != std::string::npos);
  // The summary, as the JSON report writes it, in the test's output.
  CHECK(xml.find("&quot;definitely_lost_bytes&quot;:null") != std::string::npos);
  CHECK(xml.find("&quot;leaked_bytes&quot;:300") != std::string::npos);
}

TEST_CASE("markdown: several processes, each with its verdict; the report's top sites") {
  AnalysisReport r = report(0, "CpuBound");
  r.processes.push_back(process(43, "other"));
  SiteRow site;
  site.pid = 43;
  site.function = "hot";
  site.file = "/src/hot.c";
  site.line = 12;
  site.allocations = 1234;
  site.allocated_bytes = 2048;
  r.top_sites.push_back(site);
  std::string md = markdown_summary(r, {});
  CHECK(md.find("## memscope: 2 processes") == 0);
  CHECK(md.find("| bottleneck of app (pid 42) | CpuBound |") != std::string::npos);
  CHECK(md.find("| bottleneck of other (pid 43) | no figures measured |") != std::string::npos);
  CHECK(md.find("| hot | /src/hot.c:12 | 43 | 1,234 | 2.0 KiB (2048 bytes) | 0 bytes |") !=
        std::string::npos);
  CHECK(md.find("No leaks: every block was freed.") != std::string::npos);
}
