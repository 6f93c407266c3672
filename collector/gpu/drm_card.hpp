// Finding GPUs under <root>/sys/class/drm by PCI vendor and the hwmon files their drivers
// expose (amdgpu, and i915/xe on discrete cards), shared by the AMD and Intel sources.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "collector/linux/proc_file.hpp"

namespace memscope::collector {

inline constexpr std::string_view kPciVendorAmd = "0x1002";
inline constexpr std::string_view kPciVendorIntel = "0x8086";

// The card directories ("<root>/sys/class/drm/card0") whose device/vendor is `vendor`;
// connectors such as card0-DP-1 are skipped.
std::vector<std::string> drm_cards(const std::string& root, std::string_view vendor);

// The first hwmon directory of a card's device: temperature (m°C), power (µW), energy (µJ).
struct GpuHwmon {
  ProcFile temperature;  // temp1_input
  ProcFile power;        // power1_average, else power1_input
  explicit GpuHwmon(const std::string& device_dir);
  std::optional<double> celsius();
  std::optional<double> watts();
};

// A card's marketing name where the driver gives one (product_name), else a fallback.
std::string card_name(const std::string& card_dir, std::string_view fallback_prefix);

// Reads a file holding one unsigned number.
std::optional<uint64_t> read_u64(ProcFile& file);

}  // namespace memscope::collector
