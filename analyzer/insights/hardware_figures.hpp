// Figures from the hardware counters (kHwCounters): instructions per cycle, last-level cache
// misses per thousand instructions and the share of cycles stalled in the back end, for the
// process and for each thread that had counters of its own. A figure the counters could not
// give (no PMU, an event the machine lacks, one never scheduled) is an empty optional, never 0.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "analyzer/process_analysis.hpp"

namespace memscope::analyzer::insights {

struct HardwareFigures {
  bool available = false;
  std::string reason;      // why not, when not available ("cycles: ENOENT, ...")
  bool user_only = false;  // the kernel's share is not in the counts (perf_event_paranoid)
  std::optional<double> cycles;
  std::optional<double> instructions;
  std::optional<double> llc_misses;
  std::optional<double> stalled_cycles_backend;
  std::optional<double> ipc;                     // instructions / cycles
  std::optional<double> cycles_per_instruction;  // cycles / instructions (the rule's >= form)
  std::optional<double> llc_misses_per_kilo_instruction;
  std::optional<double> stalled_backend_share;  // stalled_cycles_backend / cycles
  // The smallest share of its enabled time an event was counted: below 1, the PMU was shared and
  // the counts are scaled estimates.
  std::optional<double> counted_share;
};

// The process's figures (its counter, inherited by its threads) and, by tid, those of the
// threads that had counters of their own.
struct HardwareReport {
  HardwareFigures process;
  std::map<uint64_t, HardwareFigures> threads;
};

HardwareReport hardware_figures(const HwReadings& r);

}  // namespace memscope::analyzer::insights
