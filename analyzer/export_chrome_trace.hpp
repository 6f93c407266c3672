// Trace Event JSON (the `traceEvents` format that Perfetto and chrome://tracing open) from the
// typed analysis: per process and thread name metadata, each thread's lifetime as a complete
// ("X") event on its own track, and counters ("C") for live heap, allocation rate, CPU, GPU and
// IO from the heap timeline and the metric series. Timestamps are CLOCK_MONOTONIC microseconds.
#pragma once

#include <nlohmann/json.hpp>

#include "analyzer/analysis_report.hpp"

namespace memscope::analyzer {

// Events come out sorted by timestamp, metadata first.
nlohmann::json chrome_trace(const AnalysisReport& report);

}  // namespace memscope::analyzer
