// Folded stacks (`frame;frame;frame weight`, root first), the input of flamegraph.pl, inferno
// and speedscope, from the symbolized allocation sites. Frames are named as in the reports
// (function, else module+0xoffset), inlined frames included, one line per distinct stack.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "analyzer/heap_report.hpp"

namespace memscope::analyzer {

enum class FoldedWeight { kBytes, kCount, kLeaked, kPeak };

// "bytes", "count", "leaked" or "peak"; nothing for anything else.
std::optional<FoldedWeight> parse_folded_weight(const std::string& name);

// Writes one line per stack with a non-zero weight, sorted. With several processes each stack
// starts with a frame naming its process ("exe (pid N)").
void write_folded(const HeapReport& heap, FoldedWeight weight, std::ostream& out);

// A frame name made safe for the format: ';' separates frames and a newline ends a record, so
// both become ',' and ' ' (the same way everywhere, so equal names stay equal).
std::string folded_frame_name(const std::string& name);

}  // namespace memscope::analyzer
