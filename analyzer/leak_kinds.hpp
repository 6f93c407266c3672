// The kinds of the blocks still live at a process's end (definitely, indirectly, possibly lost,
// still reachable), as the agent's leak scan recorded them (format/leak_scan.hpp), per process
// and per site (summary.cpp sums them over a session, suppressions applied). Unknown (nullopt, null
// in the JSON), never 0, wherever no scan covered the blocks: a process killed by a signal, a fork
// child, a trace without the record.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "analyzer/process_analysis.hpp"
#include "format/leak_scan.hpp"

namespace memscope::analyzer {

// The JSON names of the kinds, in format::LeakKind order.
inline constexpr const char* kLeakKindNames[format::kLeakKinds] = {
    "definitely_lost", "indirectly_lost", "possibly_lost", "reachable_at_exit"};

// A process's totals by kind, when a complete scan covered its live blocks.
std::optional<format::KindCounts> process_leak_kinds(const ProcessAnalysis& p);
// The kinds of one site's live blocks (by stack id), when the scan recorded sites.
std::optional<format::KindCounts> site_leak_kinds(const ProcessAnalysis& p, uint64_t stack_id);
// The first kind, in memcheck's order, that any of `kinds`' blocks has.
std::optional<format::LeakKind> leading_kind(const format::KindCounts& kinds);

// In words: how the scan went ("complete"), or why the kinds are unknown.
std::string leak_check_status(const ProcessAnalysis& p);

// Whether exec replaced the image: the kernel discarded its heap with it, so the blocks it still
// held did not leak.
bool ended_by_exec(const ProcessAnalysis& p);
std::string freeres_outcome(const format::FreeresOutcome outcome);

}  // namespace memscope::analyzer
