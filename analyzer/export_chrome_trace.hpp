// Trace Event JSON (the `traceEvents` format that Perfetto and chrome://tracing open) from the
// analysis JSON: per process and thread name metadata, each thread's lifetime as a complete
// ("X") event on its own track, and counters ("C") for live heap, allocation rate, CPU, GPU and
// IO from the heap timeline and the metric series. Timestamps are CLOCK_MONOTONIC microseconds.
#pragma once

#include <nlohmann/json.hpp>

namespace memscope::analyzer {

// `report` is a memscope-analysis/1 report; events come out sorted by timestamp, metadata first.
nlohmann::json chrome_trace(const nlohmann::json& report);

}  // namespace memscope::analyzer
