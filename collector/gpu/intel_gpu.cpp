// Intel GPUs through i915 or xe sysfs: the current GT frequency, and busyness derived from the
// GT's idle (RC6) residency where the kernel exposes it: busy = 1 - idle time / interval.
#include <algorithm>

#include "collector/gpu/drm_card.hpp"
#include "collector/gpu/gpu_source.hpp"
#include "collector/linux/rates.hpp"

namespace memscope::collector {
namespace {

// The first path that exists, relative to the card directory; empty ProcFile when none does.
ProcFile first_existing(const std::string& card, std::initializer_list<const char*> candidates) {
  for (const char* relative : candidates) {
    std::string path = card + "/" + relative;
    if (path_exists(path)) return ProcFile(path);
  }
  return ProcFile();
}

struct IntelCard {
  std::string name;
  ProcFile frequency, idle_ms;
  GpuHwmon hwmon;
  uint64_t idle_prev_ms = 0;
  bool idle_valid = false;

  explicit IntelCard(const std::string& card)
      : name(card_name(card, "Intel GPU")),
        frequency(first_existing(card, {"gt_cur_freq_mhz", "gt/gt0/rps_cur_freq_mhz",
                                        "device/tile0/gt0/freq0/cur_freq"})),
        idle_ms(first_existing(card, {"gt/gt0/rc6_residency_ms", "power/rc6_residency_ms",
                                      "device/tile0/gt0/gtidle/idle_residency_ms"})),
        hwmon(card + "/device") {}

  GpuResourceMetrics read(uint64_t interval_ns) {
    GpuResourceMetrics gpu;
    gpu.device_name = name;
    gpu.vendor = GpuVendor::kIntel;
    if (auto mhz = read_u64(frequency)) gpu.frequency_mhz = static_cast<double>(*mhz);
    if (auto idle = read_u64(idle_ms)) {
      if (idle_valid && interval_ns > 0) {
        double idle_fraction = static_cast<double>(counter_delta(idle_prev_ms, *idle)) * 1e6 /
                               static_cast<double>(interval_ns);
        gpu.compute_usage_percent = std::clamp(100.0 * (1.0 - idle_fraction), 0.0, 100.0);
      }
      idle_prev_ms = *idle;
      idle_valid = true;
    }
    gpu.temperature_celsius = hwmon.celsius();
    gpu.power_usage_watts = hwmon.watts();
    return gpu;
  }
};

class IntelSource final : public GpuSource {
 public:
  explicit IntelSource(const std::vector<std::string>& cards) {
    for (const std::string& card : cards) cards_.emplace_back(card);
  }
  void sample(std::vector<GpuResourceMetrics>& out, uint64_t, uint64_t interval_ns) override {
    for (IntelCard& card : cards_) out.push_back(card.read(interval_ns));
  }

 private:
  std::vector<IntelCard> cards_;
};

}  // namespace

std::unique_ptr<GpuSource> make_intel_source(const std::string& root) {
  std::vector<std::string> cards = drm_cards(root, kPciVendorIntel);
  if (cards.empty()) return nullptr;
  return std::make_unique<IntelSource>(cards);
}

}  // namespace memscope::collector
