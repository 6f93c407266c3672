// Tests of the C++ API (include/memscope/memscope.hpp) in a program that links memscope: the
// region's counts are exact, sessions can follow one another, misuse is a clear error. The same
// binary is also run under memscope-run (CTest `api_session_under_memscope_run`): then the
// whole process is traced and each region is analysed on its own, with the same counts.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "memscope/memscope.hpp"

namespace {

std::filesystem::path scratch_dir(const char* name) {
  return std::filesystem::temp_directory_path() /
         ("memscope-api-" + std::to_string(getpid()) + "-" + name);
}

// 100 blocks of 64 bytes, 60 of them freed: 100 allocations, 6400 bytes, 40 leaked. `blocks`
// has room for them already, so the vector allocates nothing in the region.
void known_workload(std::vector<void*>& blocks) {
  for (int i = 0; i < 100; ++i) blocks.push_back(std::malloc(64));
  for (int i = 0; i < 60; ++i) std::free(blocks[static_cast<size_t>(i)]);
}

}  // namespace

TEST_CASE("a region's counts are exact and only the region is counted") {
  std::vector<void*> before;
  for (int i = 0; i < 10; ++i) before.push_back(std::malloc(32));  // outside any region
  std::vector<void*> blocks;
  blocks.reserve(100);
  memscope::IntegratedProfilingSession session{scratch_dir("exact")};
  session.start_profiling();
  CHECK(session.is_profiling());
  known_workload(blocks);
  memscope::ProfileAnalysis analysis = session.stop_profiling_and_analyze();
  CHECK_FALSE(session.is_profiling());
  CHECK(analysis.summary.total_allocations == 100);
  CHECK(analysis.summary.total_allocated_bytes == 6400);
  CHECK(analysis.summary.total_frees == 60);
  CHECK(analysis.summary.leaked_allocations == 40);
  CHECK(analysis.summary.leaked_bytes == 2560);
  CHECK(analysis.summary.peak_heap_bytes == 6400);
  CHECK(analysis.region_end_ns > analysis.region_begin_ns);
  CHECK(std::filesystem::exists(analysis.trace_path));
  std::filesystem::path json = analysis.write_json();
  CHECK(json.filename() == "analysis.json");
  std::ifstream in(json);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  CHECK(text.find("\"schema\":\"memscope-analysis/3\"") != std::string::npos);
  std::filesystem::path html = analysis.write_html();
  CHECK(html.filename() == "report.html");
  std::ifstream page(html);
  std::string markup((std::istreambuf_iterator<char>(page)), {});
  CHECK(markup.find("application/json") != std::string::npos);
  CHECK(markup.find("memscope-analysis/3") != std::string::npos);
  for (void* p : before) std::free(p);
  std::filesystem::remove_all(scratch_dir("exact"));
}

TEST_CASE("sessions one after another are analysed separately") {
  for (int round = 1; round <= 3; ++round) {
    memscope::IntegratedProfilingSession session{scratch_dir("rounds")};
    std::vector<void*> blocks;
    blocks.reserve(static_cast<size_t>(round) * 10);
    session.start_profiling();
    for (int i = 0; i < round * 10; ++i) blocks.push_back(std::malloc(16));
    for (void* p : blocks) std::free(p);
    memscope::ProfileAnalysis a = session.stop_profiling_and_analyze();
    CHECK(a.summary.total_allocations == static_cast<uint64_t>(round) * 10);
    CHECK(a.summary.leaked_allocations == 0);
  }
  std::filesystem::remove_all(scratch_dir("rounds"));
}

TEST_CASE("misuse is a clear error, not an abort") {
  memscope::IntegratedProfilingSession session{scratch_dir("misuse")};
  CHECK_THROWS_WITH_AS(session.stop_profiling_and_analyze(),
                       doctest::Contains("without start_profiling"), memscope::ProfilingError);
  session.start_profiling();
  CHECK_THROWS_AS(session.start_profiling(), memscope::ProfilingError);
  memscope::IntegratedProfilingSession second{scratch_dir("misuse")};
  CHECK_THROWS_WITH_AS(second.start_profiling(), doctest::Contains("another profiling session"),
                       memscope::ProfilingError);
  session.stop_profiling_and_analyze();
  std::filesystem::remove_all(scratch_dir("misuse"));
}

TEST_CASE("comprehensive_profile_execution returns the work's result with the analysis") {
  auto [sum, analysis] = memscope::comprehensive_profile_execution(scratch_dir("wrap"), [] {
    std::vector<int>* v = new std::vector<int>(1000, 2);
    int total = 0;
    for (int x : *v) total += x;
    delete v;
    return total;
  });
  CHECK(sum == 2000);
  CHECK(analysis.summary.total_allocations == 2);  // the vector object and its buffer
  CHECK(analysis.summary.total_frees == 2);
  auto [nothing, void_analysis] =
      memscope::comprehensive_profile_execution(scratch_dir("wrap"), [] {});
  (void)nothing;
  CHECK(void_analysis.summary.total_allocations == 0);
  std::filesystem::remove_all(scratch_dir("wrap"));
}
