// pprof's profile.proto (github.com/google/pprof/blob/main/proto/profile.proto), gzipped, from
// the symbolized allocation sites: sample types alloc_objects, alloc_space, inuse_objects and
// inuse_space (inuse: still live when the trace ends), one Location per recorded address with
// its inlined frames as several Lines, and a Mapping per module of the trace's module map. The
// wire format is written by hand: varints and length-delimited fields are all it needs.
#pragma once

#include <string>

#include "analyzer/heap_report.hpp"

namespace memscope::analyzer {

// The profile, serialized but not compressed (tests decode it).
std::string pprof_profile(const HeapReport& heap);

// Writes the gzipped profile to `path`; on failure returns false and sets `error`.
bool write_pprof(const HeapReport& heap, const std::string& path, std::string& error);

}  // namespace memscope::analyzer
