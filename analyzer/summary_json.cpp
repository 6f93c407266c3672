// See summary_json.hpp.
#include "analyzer/summary_json.hpp"

#include <string>

#include "analyzer/leak_kinds.hpp"

namespace memscope::analyzer {

std::vector<std::pair<std::string, std::optional<uint64_t>>> summary_fields(const Summary& s) {
  std::vector<std::pair<std::string, std::optional<uint64_t>>> out = {
      {"total_allocations", s.total_allocations},
      {"total_frees", s.total_frees},
      {"total_allocated_bytes", s.total_allocated_bytes},
      {"peak_heap_bytes", s.peak_heap_bytes},
      {"leaked_allocations", s.leaked_allocations},
      {"leaked_bytes", s.leaked_bytes},
      {"discarded_by_exec_allocations", s.discarded_by_exec_allocations},
      {"discarded_by_exec_bytes", s.discarded_by_exec_bytes},
      {"threads", s.threads},
      {"dropped_events", s.dropped_events},
      {"unmatched_frees", s.unmatched_frees}};
  for (size_t k = 0; k < format::kLeakKinds; ++k) {
    std::string name = kLeakKindNames[k];
    out.emplace_back(name + "_allocations", s.leak_kinds
                                                ? std::optional<uint64_t>((*s.leak_kinds)[k].blocks)
                                                : std::nullopt);
    out.emplace_back(name + "_bytes", s.leak_kinds
                                          ? std::optional<uint64_t>((*s.leak_kinds)[k].bytes)
                                          : std::nullopt);
  }
  out.emplace_back("suppressed_blocks", s.suppressed.blocks);
  out.emplace_back("suppressed_bytes", s.suppressed.bytes);
  return out;
}

nlohmann::json summary_json(const Summary& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, value] : summary_fields(s))
    j[name] = value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  return j;
}

}  // namespace memscope::analyzer
