// A process's thread table made whole: the threads the agent recorded, plus every thread the
// sidecar's samples of /proc/self/task listed that the agent never saw start (a thread created
// before the agent's hooks, such as jemalloc's background thread, or by a raw clone), plus the
// main thread, which every process has even when it made no heap call and was never sampled.
// memscope's own sidecar is left out, told by the tid the trace records (by its name in older
// traces). A thread with no end of its own gets the process's end, flagged, unless the last
// sample shows it gone before.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "analyzer/trace_reader.hpp"
#include "memscope/collector.hpp"

namespace memscope::analyzer {

// memscope's sidecar thread: the tid the trace records, else (older traces) the sampled thread
// named "memscope" that the agent never recorded; 0 when neither is known.
uint64_t find_sidecar_tid(const ProcessInfo& info, const std::map<uint64_t, ThreadInfo>& threads,
                          const std::vector<PlatformMetrics>& samples);

// Adds the sampled and main threads to `threads` and fills in ends (see above). `trace_start_ns`
// is the main thread's start when the agent did not record it; `end` is null without an end.
void complete_thread_table(std::map<uint64_t, ThreadInfo>& threads, const ProcessInfo& info,
                           uint64_t sidecar_tid, uint64_t trace_start_ns,
                           const std::vector<PlatformMetrics>& samples, const ProcessEnd* end);

}  // namespace memscope::analyzer
