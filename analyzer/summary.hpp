// The summary figures of the core report, per process and in total, computed one way for every
// output format (docs/json-schema.md defines each field).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "analyzer/heap_report.hpp"
#include "analyzer/session.hpp"
#include "format/leak_scan.hpp"

namespace memscope::analyzer {

struct Summary {
  uint64_t total_allocations = 0;
  uint64_t total_frees = 0;
  uint64_t total_allocated_bytes = 0;
  uint64_t peak_heap_bytes = 0;
  uint64_t leaked_allocations = 0;  // blocks live at the end, suppressed ones left out
  uint64_t leaked_bytes = 0;
  // Blocks live when an exec replaced the image: the kernel discarded them with its address
  // space, so they did not leak (valgrind reports nothing for such an image); not in leaked_*.
  uint64_t discarded_by_exec_allocations = 0;
  uint64_t discarded_by_exec_bytes = 0;
  uint64_t threads = 0;
  uint64_t dropped_events = 0;
  uint64_t unmatched_frees = 0;
  // The leaked blocks by kind (leak_kinds.hpp), suppressed ones left out; unknown without a
  // complete leak scan.
  std::optional<format::KindCounts> leak_kinds;
  format::KindCount suppressed;  // the live blocks of suppressed sites
};

// The trace's own figures, before any suppression (memscope-run's one-line summary); an image
// replaced by exec has its live blocks in discarded_by_exec_*, not in leaked_*.
Summary summarize(const ProcessAnalysis& p);
// With the view's suppressions applied.
Summary summarize(const ProcessHeapView& v);
// Totals over processes; the peak is the largest single-process peak (processes' peaks need not
// coincide in time, so their sum would claim a moment that may never have happened).
Summary summarize(const Session& s, const HeapReport& heap);

// How the process ended, in words ("exit", "_exit(3)", "signal 11 (SIGSEGV)", "exec", or
// "no end recorded (killed?)").
std::string describe_end(const ProcessAnalysis& p);

// How a thread is known, as the reports say it: "agent", "samples" or "process".
const char* thread_source_name(ThreadSource source);

}  // namespace memscope::analyzer
