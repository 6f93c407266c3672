// See summary_json.hpp.
#include "analyzer/summary_json.hpp"

#include <string>

#include "analyzer/leak_kinds.hpp"

namespace memscope::analyzer {

nlohmann::json summary_json(const Summary& s) {
  using nlohmann::json;
  json j = {{"total_allocations", s.total_allocations},
            {"total_frees", s.total_frees},
            {"total_allocated_bytes", s.total_allocated_bytes},
            {"peak_heap_bytes", s.peak_heap_bytes},
            {"leaked_allocations", s.leaked_allocations},
            {"leaked_bytes", s.leaked_bytes},
            {"threads", s.threads},
            {"dropped_events", s.dropped_events},
            {"unmatched_frees", s.unmatched_frees}};
  for (size_t k = 0; k < format::kLeakKinds; ++k) {
    std::string name = kLeakKindNames[k];
    j[name + "_allocations"] = s.leak_kinds ? json((*s.leak_kinds)[k].blocks) : json(nullptr);
    j[name + "_bytes"] = s.leak_kinds ? json((*s.leak_kinds)[k].bytes) : json(nullptr);
  }
  j["suppressed_blocks"] = s.suppressed.blocks;
  j["suppressed_bytes"] = s.suppressed.bytes;
  return j;
}

}  // namespace memscope::analyzer
