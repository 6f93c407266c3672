// The heap figures of a session made presentable: every allocation site with its symbolized
// stack, sites grouped by function, and per-thread figures, built once and shared by the text
// and JSON reports. A site's function is the innermost frame of the program's own code: the
// first frame, inlined frames included, that is neither in a runtime library (libc, libstdc++,
// libgcc_s, libm, the loader, memscope's agent) nor a standard-library function (std::,
// __gnu_cxx::, operator new), nor the program's own allocation wrapper (a function named with
// malloc, calloc, realloc or strdup: zmalloc, xmalloc) unless nothing follows it; when every frame
// is, the innermost frame (docs/json-schema.md). Leak suppressions are applied here, once: every
// output reads the sites' `suppressed_by` and the processes' LeakVerdict.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analyzer/heap_names.hpp"
#include "analyzer/session.hpp"
#include "analyzer/stack_table.hpp"
#include "analyzer/suppressions.hpp"
#include "analyzer/symbolizer.hpp"
#include "format/leak_scan.hpp"

namespace memscope::analyzer {

struct SiteView {
  const SiteStats* stats = nullptr;
  const StackTable* table = nullptr;
  uint32_t stack = kNoStack;  // its innermost stack node; kNoStack when no stack was recorded
  // The site's function: its frame (an index into the table's frames) and how deep in the
  // stack it sits (0: innermost).
  std::optional<uint32_t> function_frame;
  size_t function_depth = 0;
  std::optional<SuppressionRule> suppressed_by;  // the rule its live blocks matched, if any
  const Frame* function() const {
    return function_frame ? &table->frame(*function_frame) : nullptr;
  }
  bool has_stack() const { return stack != kNoStack; }
  // Its frames, innermost first (built on each call: read them where they are printed).
  std::vector<const Frame*> frames() const { return table->frames_of(stack); }
};

// A process's blocks live at the end, once suppressions are applied.
struct LeakVerdict {
  format::KindCount suppressed;  // the live blocks and bytes of suppressed sites
  // The kinds of the blocks that are not suppressed; unknown without a complete scan, or when a
  // suppressed site's own kinds were not recorded (a --leak-check=summary scan).
  std::optional<format::KindCounts> kinds;
};

struct FunctionView {
  std::string name;         // the function, or module+0xoffset when it could not be named
  size_t largest_site = 0;  // index into the process's sites: where file, line, module come from
  SiteStats totals;         // summed over its sites (stack_id and first_stamp unused)
  size_t sites = 0;
};

struct ThreadView {
  const ThreadInfo* info = nullptr;
  ThreadHeap heap;                      // zero when the thread made no heap calls
  std::optional<uint64_t> cpu_time_ns;  // its own end reading, else the last sample listing it
};

struct ProcessHeapView {
  const TracedProcess* process = nullptr;
  std::vector<SiteView> sites;          // by allocated bytes, largest first
  std::vector<FunctionView> functions;  // by allocated bytes, largest first
  std::vector<ThreadView> threads;      // by tid
  // Indices into `sites`: the largest at the peak, and those leaking (largest first).
  std::vector<size_t> peak_sites;
  std::vector<size_t> leak_sites;
  LeakVerdict leaks;
};

struct HeapReport {
  // Every site's frames and stacks, once each; on the heap, as sites point to it.
  std::unique_ptr<StackTable> stacks = std::make_unique<StackTable>();
  std::vector<ProcessHeapView> processes;     // in the session's order
  uint64_t distinct_addresses = 0;            // addresses the symbolizer resolved
  std::vector<SuppressionRule> suppressions;  // the rules applied
};

HeapReport build_heap_report(const Session& session, Symbolizer& symbolizer,
                             const SuppressionList& suppressions = SuppressionList::builtin());

// The keys sites are ranked by, for top_sites.
inline uint64_t site_bytes(const SiteStats& s) {
  return s.counts.allocated_bytes;
}
inline uint64_t site_allocations(const SiteStats& s) {
  return s.counts.allocations;
}
inline uint64_t site_bytes_at_peak(const SiteStats& s) {
  return s.peak_bytes;
}
inline uint64_t site_leaked_bytes(const SiteStats& s) {
  return s.live_bytes;
}
// The entries of `view.leak_sites` that are suppressed (or are not), in the same order.
std::vector<size_t> leaks_of(const ProcessHeapView& view, bool suppressed);

// Site indices of `view` sorted by `key` (largest first), at most `top`, zero keys left out.
std::vector<size_t> top_sites(const ProcessHeapView& view, uint64_t (*key)(const SiteStats&),
                              size_t top);

// The mean sampling interval of the report's first sampled trace (memscope-run --sample-bytes),
// whose figures are then estimates; 0 when every trace is exact.
uint64_t sampled_mean_bytes(const HeapReport& heap);

// The name a frame is shown by: its function, else module+0xoffset.
std::string frame_name(const Frame& f);
// How a site is named for people: its function frame as `function (file:line)`, `function`
// without line information, `module+0xoffset` without symbols; empty without a stack.
std::string site_location(const SiteView& site);
// site_location of the process's site with that stack id ("" for none), for the insights.
std::function<std::string(uint64_t)> site_namer(const ProcessHeapView& view);
// The runtime libraries a site's function is never in, by file-name prefix (libc.so, ...).
const std::vector<std::string>& runtime_module_prefixes();

}  // namespace memscope::analyzer
