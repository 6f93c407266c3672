// One GPU vendor's sampler. Each vendor is found at runtime (NVML through dlopen, AMD and Intel
// through sysfs), none is a link-time dependency, and none spawns a process.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "memscope/collector.hpp"

namespace memscope::collector {

class GpuSource {
 public:
  virtual ~GpuSource() = default;
  // Appends one entry per device of this vendor.
  virtual void sample(std::vector<GpuResourceMetrics>& out, uint64_t now_ns,
                      uint64_t interval_ns) = 0;
};

// Null when the library cannot be loaded or nvmlInit fails; `status` then says why.
std::unique_ptr<GpuSource> make_nvml_source(const std::string& library, uint64_t slow_period_ns,
                                            std::string& status);
// Null when <root>/sys/class/drm has no card of that vendor.
std::unique_ptr<GpuSource> make_amd_source(const std::string& root);
std::unique_ptr<GpuSource> make_intel_source(const std::string& root);

}  // namespace memscope::collector
