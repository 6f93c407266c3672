// See correlations.hpp.
#include "analyzer/insights/correlations.hpp"

#include <functional>

namespace memscope::analyzer::insights {
namespace {

using Pick = std::function<std::optional<double>(const AlignedSample&)>;

struct Definition {
  const char* name;
  const char* x;
  const char* y;
  Pick px;
  Pick py;
};

Correlation correlate(const Definition& d, const std::vector<AlignedSample>& aligned) {
  std::vector<double> xs, ys;
  for (const AlignedSample& s : aligned) {
    auto x = d.px(s), y = d.py(s);
    if (x && y) xs.push_back(*x), ys.push_back(*y);
  }
  Correlation c{d.name, d.x, d.y, xs.size(), pearson(xs, ys), spearman(xs, ys), {}};
  if (xs.size() < kMinCorrelationSamples)
    c.null_reason = "fewer than " + std::to_string(kMinCorrelationSamples) +
                    " aligned samples with both series";
  else if (!c.pearson || !c.spearman)
    c.null_reason = "a series is constant over the samples";
  return c;
}

std::vector<Definition> definitions() {
  auto live = [](const AlignedSample& s) -> std::optional<double> { return s.live_heap_bytes; };
  auto cpu = [](const AlignedSample& s) { return s.process_cpu_percent; };
  return {
      {"memory_cpu", "live heap bytes at the sample's end", "process CPU percent", live, cpu},
      {"memory_gpu", "live heap bytes at the sample's end", "mean GPU compute percent", live,
       [](const AlignedSample& s) { return s.gpu_percent; }},
      {"memory_io", "live heap bytes at the sample's end", "process storage read+write bytes/s",
       live, [](const AlignedSample& s) { return s.process_io_bytes_per_sec; }},
      {"allocation_cpu", "allocations/s in the sample's interval", "process CPU percent",
       [](const AlignedSample& s) -> std::optional<double> { return s.allocations_per_sec; }, cpu},
      {"deallocation_pressure", "frees/s in the sample's interval",
       "process page faults/s (minor + major)",
       [](const AlignedSample& s) -> std::optional<double> { return s.frees_per_sec; },
       [](const AlignedSample& s) { return s.page_faults_per_sec; }},
  };
}

}  // namespace

std::vector<Correlation> correlations(const std::vector<AlignedSample>& aligned) {
  std::vector<Correlation> out;
  for (const Definition& d : definitions()) out.push_back(correlate(d, aligned));
  return out;
}

}  // namespace memscope::analyzer::insights
