// The five named correlations between aligned series (docs/analysis.md defines each): which
// two series, how many aligned samples had both, and Pearson and Spearman coefficients with
// their confidence figures, or null with the reason when they cannot be computed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analyzer/insights/aligned.hpp"
#include "analyzer/insights/statistics.hpp"

namespace memscope::analyzer::insights {

struct Correlation {
  std::string name;  // memory_cpu, memory_gpu, memory_io, allocation_cpu, deallocation_pressure
  std::string x;     // the series' definitions, as in docs/analysis.md
  std::string y;
  size_t samples = 0;  // aligned samples that had both values
  std::optional<Coefficient> pearson;
  std::optional<Coefficient> spearman;
  std::string null_reason;  // set when either coefficient is null
};

std::vector<Correlation> correlations(const std::vector<AlignedSample>& aligned);

}  // namespace memscope::analyzer::insights
