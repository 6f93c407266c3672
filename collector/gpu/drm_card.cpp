// DRM card discovery and hwmon reading; see drm_card.hpp.
#include "collector/gpu/drm_card.hpp"

#include <algorithm>

namespace memscope::collector {

std::vector<std::string> drm_cards(const std::string& root, std::string_view vendor) {
  std::string drm = join_path(root, "sys/class/drm");
  std::vector<std::string> cards;
  for (const std::string& name : list_directory(drm)) {
    if (name.rfind("card", 0) != 0 || !parse_number<unsigned>(std::string_view(name).substr(4))) {
      continue;
    }
    ProcFile vendor_file(drm + "/" + name + "/device/vendor");
    auto text = vendor_file.read();
    if (text && trim(*text) == vendor) cards.push_back(drm + "/" + name);
  }
  return cards;
}

GpuHwmon::GpuHwmon(const std::string& device_dir) {
  std::vector<std::string> hwmons = list_directory(device_dir + "/hwmon");
  if (hwmons.empty()) return;
  std::string dir = device_dir + "/hwmon/" + hwmons.front();
  temperature = ProcFile(dir + "/temp1_input");
  std::string power_path = dir + "/power1_average";
  power = ProcFile(path_exists(power_path) ? power_path : dir + "/power1_input");
}

std::optional<uint64_t> read_u64(ProcFile& file) {
  auto text = file.read();
  return text ? parse_number<uint64_t>(*text) : std::nullopt;
}

std::optional<double> GpuHwmon::celsius() {
  auto milli = read_u64(temperature);
  return milli ? std::optional<double>(static_cast<double>(*milli) / 1000.0) : std::nullopt;
}

std::optional<double> GpuHwmon::watts() {
  auto micro = read_u64(power);
  return micro ? std::optional<double>(static_cast<double>(*micro) / 1e6) : std::nullopt;
}

std::string card_name(const std::string& card_dir, std::string_view fallback_prefix) {
  ProcFile product(card_dir + "/device/product_name");
  auto text = product.read();
  if (text && !trim(*text).empty()) return std::string(trim(*text));
  return std::string(fallback_prefix) + " (" + card_dir.substr(card_dir.rfind('/') + 1) + ")";
}

}  // namespace memscope::collector
