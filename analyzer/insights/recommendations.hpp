// Recommendations, each derived from measured figures that it carries as evidence; those about
// allocations name the allocation site. No figure over its threshold, no recommendation.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analyzer/insights/bottleneck.hpp"
#include "analyzer/process_analysis.hpp"

namespace memscope::analyzer::insights {

struct SiteRef {
  uint64_t stack_id = 0;
  std::string location;  // first frame outside memscope and the C/C++ runtime: module+offset
  uint64_t allocations = 0;
  uint64_t bytes = 0;
  uint64_t frees = 0;
};

struct Recommendation {
  std::string kind;  // allocation_churn, leak, lock_contention, cpu_saturation, ...
  std::string message;
  std::vector<Evidence> evidence;
  std::optional<SiteRef> site;
};

std::vector<Recommendation> recommend(const ProcessAnalysis& p, const ProcessFigures& f);

// How a frame is shown: module+offset (symbolization is applied elsewhere when available).
std::string frame_location(const ProcessAnalysis& p, uint64_t pc);

}  // namespace memscope::analyzer::insights
