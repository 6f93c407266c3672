// memscope's C++ API: profile a region of your own program with the same agent, collector and
// analyzer that memscope-run and memscope-analyze use.
//
//   memscope::IntegratedProfilingSession session{"./analysis_output"};
//   session.start_profiling();
//   run_workload();
//   memscope::ProfileAnalysis analysis = session.stop_profiling_and_analyze();
//
// Link the `memscope::memscope` CMake target (or `pkg-config memscope`): it brings the agent
// library, which records only inside regions unless the program runs under memscope-run (then
// the whole run is traced and a region is analysed on its own).
//
// Errors: the session's member functions throw memscope::ProfilingError (a std::runtime_error)
// with a message saying what to do; nothing in the library aborts. Analysis figures that the
// trace could not give are empty std::optional values, never zero placeholders.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "memscope/collector.hpp"

namespace memscope {

class ProfilingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The region's totals, counted as valgrind's DHAT counts (docs/json-schema.md).
struct AnalysisSummary {
  uint64_t total_allocations = 0;
  uint64_t total_frees = 0;
  uint64_t total_allocated_bytes = 0;
  uint64_t peak_heap_bytes = 0;
  uint64_t leaked_allocations = 0;  // allocated in the region, still live at its end
  uint64_t leaked_bytes = 0;
  uint64_t threads = 0;
  uint64_t dropped_events = 0;
};

enum class Bottleneck { CpuBound, MemoryBound, IoBound, GpuBound, ContentionBound, Balanced };

// One measured figure behind a verdict or recommendation, and the threshold it was held to.
struct Evidence {
  std::string name;
  double value = 0;
  double threshold = 0;
  bool met = false;
  bool caveat = false;  // memscope's own cost, large enough to colour the verdict (analysis.md)
};

struct Recommendation {
  std::string kind;
  std::string message;
  std::vector<Evidence> evidence;
  std::optional<std::string> site;  // where the allocations come from, when it is about them
};

struct ThreadPerformance {
  uint64_t thread_id = 0;
  std::string thread_name;
  double efficiency_score = 0;
  double cpu_percent = 0;
  std::optional<double> run_queue_wait_percent;
  uint64_t allocations = 0;
};

struct PerformanceInsights {
  // Empty when too few metric samples were taken to decide (a very short region).
  std::optional<Bottleneck> primary_bottleneck;
  std::vector<Evidence> evidence;
  std::optional<double> cpu_efficiency_score;
  std::optional<double> memory_efficiency_score;
  std::optional<double> io_efficiency_score;
  std::vector<Recommendation> recommendations;
  std::vector<ThreadPerformance> thread_performance_ranking;
};

struct CorrelationResult {
  std::string name;  // memory_cpu, memory_gpu, memory_io, allocation_cpu, deallocation_pressure
  uint64_t samples = 0;
  std::optional<double> pearson;  // empty with too few samples or a constant series
  std::optional<double> pearson_p_value;
  std::optional<double> spearman;
  std::optional<double> spearman_p_value;
};

class ProfileAnalysis {
 public:
  AnalysisSummary summary;
  PerformanceInsights performance_insights;
  std::vector<CorrelationResult> correlations;
  std::string trace_path;  // the trace the region was recorded in
  uint64_t region_begin_ns = 0;
  uint64_t region_end_ns = 0;

  // The whole analysis as memscope-analyze's JSON (schema memscope-analysis/3).
  const std::string& json() const { return json_; }
  // Writes json() to `file`, by default <session directory>/analysis.json; returns the path.
  // Throws ProfilingError when the file cannot be written.
  std::filesystem::path write_json(const std::filesystem::path& file = {}) const;
  // Writes the self-contained HTML report (memscope-analyze --html), by default to
  // <session directory>/report.html; returns the path. Throws ProfilingError on failure.
  std::filesystem::path write_html(const std::filesystem::path& file = {}) const;

 private:
  friend class IntegratedProfilingSession;
  std::string json_;
  std::filesystem::path directory_;
};

class IntegratedProfilingSession {
 public:
  // `output_directory` receives the trace (unless memscope-run already traces the process)
  // and the files the analysis writes. It is created when profiling starts.
  explicit IntegratedProfilingSession(std::filesystem::path output_directory);
  // Ends a region still open, without analysing it.
  ~IntegratedProfilingSession();
  IntegratedProfilingSession(const IntegratedProfilingSession&) = delete;
  IntegratedProfilingSession& operator=(const IntegratedProfilingSession&) = delete;

  // Throws ProfilingError when already profiling, when another session of the process is open,
  // when the agent library is not loaded, or when the trace cannot be written.
  void start_profiling();
  // Ends the region and analyses it. Throws ProfilingError when not profiling or when the
  // trace cannot be read.
  ProfileAnalysis stop_profiling_and_analyze();
  bool is_profiling() const { return region_id_ != 0; }

 private:
  std::filesystem::path directory_;
  uint64_t region_id_ = 0;
  uint64_t begin_ns_ = 0;
};

// Runs `work` inside a profiling session and returns its result with the analysis. A `work`
// returning void gives std::monostate. If `work` throws, the region is closed and the exception
// propagates.
template <typename Work>
auto comprehensive_profile_execution(const std::filesystem::path& output_directory, Work&& work) {
  IntegratedProfilingSession session{output_directory};
  session.start_profiling();
  if constexpr (std::is_void_v<std::invoke_result_t<Work>>) {
    std::invoke(std::forward<Work>(work));
    return std::pair<std::monostate, ProfileAnalysis>{std::monostate{},
                                                      session.stop_profiling_and_analyze()};
  } else {
    auto result = std::invoke(std::forward<Work>(work));
    ProfileAnalysis analysis = session.stop_profiling_and_analyze();
    return std::pair<decltype(result), ProfileAnalysis>{std::move(result), std::move(analysis)};
  }
}

const char* to_string(Bottleneck b);

}  // namespace memscope
