// The body of a RecordType::kHwCounters trace record: the hardware counters the sidecar read
// (collector/linux/hw_counters.cpp), or why there are none. One field list (`hw_counters_fields`)
// drives both the agent's encoder and the analyzer's decoder. docs/trace-format.md, "Hardware
// counters", describes the same for people.
//
// Cumulative readings, written once a second, at a counted thread's end and at the process's
// end, rather than one pair of start/end readings: any two readings give the counts between
// them, the last one on disk survives a SIGKILL, and the once-a-second cadence bounds the cost
// (one read() per open counter) whatever the program does.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "format/body_fields.hpp"
#include "format/trace_format.hpp"

namespace memscope::format {

inline constexpr uint8_t kHwCountersVersion = 1;

// The events, in this order everywhere. Cycles and instructions are required (without them
// nothing can be said); the other two are read where the machine offers them.
enum class HwEvent : uint8_t {
  kCycles = 0,
  kInstructions = 1,
  kLlcMisses = 2,       // PERF_COUNT_HW_CACHE_MISSES: last-level cache misses on x86 and Arm
  kStalledBackend = 3,  // PERF_COUNT_HW_STALLED_CYCLES_BACKEND, where the PMU has it
};
inline constexpr size_t kHwEvents = 4;

enum class HwScope : uint8_t {
  // The program: its main thread and every thread created after the counters were opened
  // (inherited, threads only), not memscope's sidecar, which existed before.
  kProcess = 0,
  kThread = 1,  // one thread, from when its counter was opened
};

// One event's count, scaled for multiplexing (value x enabled / running), with the times the
// kernel reported: running < enabled means the PMU was shared and the count is an estimate.
struct HwCount {
  uint8_t present = 0;  // 0: the event could not be opened or was never scheduled
  uint64_t value = 0;
  uint64_t enabled_ns = 0;
  uint64_t running_ns = 0;
};

struct HwCounterGroup {
  HwScope scope = HwScope::kProcess;
  uint64_t tid = 0;  // the thread (kThread), the main thread (kProcess)
  std::array<HwCount, kHwEvents> counts;
};

struct HwCountersRecord {
  uint64_t stamp = 0;
  uint8_t available = 0;  // 0: no counters; `reason` says why
  uint8_t user_only = 0;  // 1: kernel and hypervisor excluded (perf_event_paranoid asked it)
  std::string reason;     // e.g. "cycles: ENOENT, ..." (empty when available)
  std::vector<HwCounterGroup> groups;
};

// The one field list. `v` has u8(T&) for one-byte values and enums, varint(uint64_t&),
// text(std::string&), and count(uint64_t&) for the length of a list (bounded by the reader).
template <typename V>
bool hw_counters_fields(V& v, HwCountersRecord& r) {
  uint8_t version = kHwCountersVersion;
  if (!v.u8(version) || version != kHwCountersVersion) return false;
  if (!v.varint(r.stamp) || !v.u8(r.available) || !v.u8(r.user_only) || !v.text(r.reason))
    return false;
  uint64_t n = r.groups.size();
  if (!v.count(n)) return false;
  r.groups.resize(n);
  for (HwCounterGroup& g : r.groups) {
    if (!v.u8(g.scope) || !v.varint(g.tid)) return false;
    for (HwCount& c : g.counts)
      if (!v.u8(c.present) || !v.varint(c.value) || !v.varint(c.enabled_ns) ||
          !v.varint(c.running_ns))
        return false;
  }
  return true;
}

inline void encode_hw_counters(const HwCountersRecord& record, std::vector<uint8_t>& out) {
  encode_body(record, out, [](auto& v, HwCountersRecord& r) { return hw_counters_fields(v, r); });
}

// Nothing when the body is malformed, has trailing bytes, or is of another version.
inline std::optional<HwCountersRecord> decode_hw_counters(const uint8_t* data, size_t size) {
  // Each group takes at least 2 + 4 x 4 bytes.
  std::optional<HwCountersRecord> record = decode_body<HwCountersRecord>(
      data, size, 18, [](auto& v, HwCountersRecord& r) { return hw_counters_fields(v, r); });
  if (!record) return std::nullopt;
  for (const HwCounterGroup& g : record->groups)
    if (static_cast<uint8_t>(g.scope) > static_cast<uint8_t>(HwScope::kThread)) return std::nullopt;
  return record;
}

}  // namespace memscope::format
