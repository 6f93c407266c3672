// Recommendations, each derived from measured figures that it carries as evidence; those about
// allocations name the allocation site. No figure over its threshold, no recommendation.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "analyzer/insights/bottleneck.hpp"
#include "analyzer/process_analysis.hpp"

namespace memscope::analyzer::insights {

// Names a site (by stack id) as the reports do: `function (file:line)` from its symbolized
// function frame, or empty when the reports have no name for it.
using SiteNamer = std::function<std::string(uint64_t stack_id)>;

struct SiteRef {
  uint64_t stack_id = 0;
  // The site's function frame as the SiteNamer names it; without one, the first frame outside
  // memscope and the C/C++ runtime as module+offset.
  std::string location;
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

std::vector<Recommendation> recommend(const ProcessAnalysis& p, const ProcessFigures& f,
                                      const SiteNamer& name_site);

// How a frame is shown: module+offset (symbolization is applied elsewhere when available).
std::string frame_location(const ProcessAnalysis& p, uint64_t pc);

}  // namespace memscope::analyzer::insights
