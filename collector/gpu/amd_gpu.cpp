// AMD GPUs through amdgpu sysfs: busy percent, VRAM used/total, and the card's hwmon
// temperature, power and shader clock.
#include "collector/gpu/drm_card.hpp"
#include "collector/gpu/gpu_source.hpp"

namespace memscope::collector {
namespace {

struct AmdCard {
  std::string name;
  ProcFile busy, vram_used, vram_total, sclk_hz;
  GpuHwmon hwmon;

  explicit AmdCard(const std::string& card)
      : name(card_name(card, "AMD GPU")),
        busy(card + "/device/gpu_busy_percent"),
        vram_used(card + "/device/mem_info_vram_used"),
        vram_total(card + "/device/mem_info_vram_total"),
        hwmon(card + "/device") {
    auto hwmons = list_directory(card + "/device/hwmon");
    if (!hwmons.empty())
      sclk_hz = ProcFile(card + "/device/hwmon/" + hwmons.front() + "/freq1_input");
  }

  GpuResourceMetrics read() {
    GpuResourceMetrics gpu;
    gpu.device_name = name;
    gpu.vendor = GpuVendor::kAmd;
    if (auto busy_percent = read_u64(busy)) gpu.compute_usage_percent = *busy_percent;
    gpu.memory_used_bytes = read_u64(vram_used);
    gpu.memory_total_bytes = read_u64(vram_total);
    if (gpu.memory_used_bytes && gpu.memory_total_bytes && *gpu.memory_total_bytes > 0) {
      gpu.memory_usage_percent = 100.0 * static_cast<double>(*gpu.memory_used_bytes) /
                                 static_cast<double>(*gpu.memory_total_bytes);
    }
    gpu.temperature_celsius = hwmon.celsius();
    gpu.power_usage_watts = hwmon.watts();
    if (auto hz = read_u64(sclk_hz)) gpu.frequency_mhz = static_cast<double>(*hz) / 1e6;
    return gpu;
  }
};

class AmdSource final : public GpuSource {
 public:
  explicit AmdSource(const std::vector<std::string>& cards) {
    for (const std::string& card : cards) cards_.emplace_back(card);
  }
  void sample(std::vector<GpuResourceMetrics>& out, uint64_t, uint64_t) override {
    for (AmdCard& card : cards_) out.push_back(card.read());
  }

 private:
  std::vector<AmdCard> cards_;
};

}  // namespace

std::unique_ptr<GpuSource> make_amd_source(const std::string& root) {
  std::vector<std::string> cards = drm_cards(root, kPciVendorAmd);
  if (cards.empty()) return nullptr;
  return std::make_unique<AmdSource>(cards);
}

}  // namespace memscope::collector
