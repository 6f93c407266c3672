// See hardware_figures.hpp. Readings are cumulative: the counts of the analysed window are its
// last reading minus the last one before it (nothing before it: since the counters opened).
#include "analyzer/insights/hardware_figures.hpp"

#include <algorithm>

namespace memscope::analyzer::insights {
namespace {

using format::HwEvent;

std::optional<double> counted(const format::HwCounterGroup& last,
                              const format::HwCounterGroup* before, HwEvent e) {
  const format::HwCount& c = last.counts[static_cast<size_t>(e)];
  if (!c.present) return std::nullopt;
  uint64_t base = 0;
  if (before && before->counts[static_cast<size_t>(e)].present)
    base = before->counts[static_cast<size_t>(e)].value;
  return c.value >= base ? static_cast<double>(c.value - base) : 0.0;
}

std::optional<double> ratio(const std::optional<double>& a, const std::optional<double>& b,
                            double scale = 1) {
  if (!a || !b || *b <= 0) return std::nullopt;
  return *a / *b * scale;
}

HardwareFigures figures_of(const format::HwCounterGroup& last,
                           const format::HwCounterGroup* before) {
  HardwareFigures f;
  f.available = true;
  f.cycles = counted(last, before, HwEvent::kCycles);
  f.instructions = counted(last, before, HwEvent::kInstructions);
  f.llc_misses = counted(last, before, HwEvent::kLlcMisses);
  f.stalled_cycles_backend = counted(last, before, HwEvent::kStalledBackend);
  f.ipc = ratio(f.instructions, f.cycles);
  f.cycles_per_instruction = ratio(f.cycles, f.instructions);
  f.llc_misses_per_kilo_instruction = ratio(f.llc_misses, f.instructions, 1000);
  f.stalled_backend_share = ratio(f.stalled_cycles_backend, f.cycles);
  for (const format::HwCount& c : last.counts)
    if (c.present && c.enabled_ns > 0)
      f.counted_share = std::min(f.counted_share.value_or(1.0),
                                 static_cast<double>(c.running_ns) / double(c.enabled_ns));
  return f;
}

}  // namespace

HardwareReport hardware_figures(const HwReadings& r) {
  HardwareReport out;
  out.process.reason = r.recorded ? r.reason
                                  : "not recorded (metric sampling off, or a trace "
                                    "from before memscope read hardware counters)";
  if (!r.available) return out;
  for (const auto& [key, last] : r.last) {
    auto b = r.before.find(key);
    HardwareFigures f = figures_of(last, b == r.before.end() ? nullptr : &b->second);
    f.user_only = r.user_only;
    if (key.first == format::HwScope::kProcess)
      out.process = f;
    else
      out.threads[key.second] = f;
  }
  if (!out.process.available) out.process.reason = "no reading within the analysed window";
  return out;
}

}  // namespace memscope::analyzer::insights
