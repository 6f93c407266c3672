// The body of a RecordType::kLeakScan trace record: what the agent's leak scan at the process's
// normal end found (agent/leak_scan.cpp), or why it did not scan, and whether the C runtime's
// own buffers were freed first. One field list (`fields`) drives both the agent's encoder and
// the analyzer's decoder. docs/trace-format.md, "Leak scan", describes the same for people.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "format/body_fields.hpp"
#include "format/trace_format.hpp"

namespace memscope::format {

inline constexpr uint8_t kLeakScanVersion = 1;

// memcheck's four kinds of a block still live at the end, in this order everywhere.
enum class LeakKind : uint8_t {
  kDefinitelyLost = 0,  // no pointer to it or into it from the roots or any reachable block
  kIndirectlyLost = 1,  // pointed to only from lost blocks
  kPossiblyLost = 2,    // reached only through pointers into its middle
  kReachable = 3,       // a pointer to its start from the roots or a reachable block
};
inline constexpr size_t kLeakKinds = 4;

enum class LeakScanStatus : uint8_t {
  kComplete = 0,
  kOff = 1,           // MEMSCOPE_LEAK_CHECK=none
  kNoLiveBlocks = 2,  // the sidecar kept no heap model (MEMSCOPE_HEAP_SUMMARY_MB=0, or it
                      // outgrew the budget): nothing to classify
  kTimeLimit = 3,     // stopped at its time limit; the kinds are unknown
  kUnreadable = 4,    // the process's memory could not be read (process_vm_readv refused)
};

enum class FreeresOutcome : uint8_t {
  kRan = 0,             // __gnu_cxx::__freeres and __libc_freeres were called
  kOff = 1,             // MEMSCOPE_FREERES=0 (memscope-run --no-freeres)
  kOtherThreads = 2,    // other program threads were still running
  kSignalHandler = 3,   // the program exited from inside a signal handler
  kUnderscoreExit = 4,  // _exit: freeing them would flush stdio, which _exit must not do
  kNotFound = 5,        // neither function exists in this process
};

enum class LeakCheckLevel : uint8_t { kNone = 0, kSummary = 1, kFull = 2 };

struct KindCount {
  uint64_t blocks = 0;
  uint64_t bytes = 0;
};
using KindCounts = std::array<KindCount, kLeakKinds>;

struct LeakSiteKinds {
  uint64_t stack_id = 0;  // the site's stack id, as the trace's Alloc records carry it
  KindCounts kinds;
};

struct LeakScanRecord {
  LeakScanStatus status = LeakScanStatus::kComplete;
  FreeresOutcome freeres = FreeresOutcome::kOff;
  LeakCheckLevel level = LeakCheckLevel::kFull;
  uint64_t duration_ns = 0;
  uint64_t root_bytes = 0;           // bytes of roots read (module segments, stacks, TLS)
  uint64_t block_bytes = 0;          // bytes of live blocks read
  uint64_t threads_scanned = 0;      // thread stacks read
  uint64_t threads_unscanned = 0;    // live threads whose stack could not be located
  KindCounts totals;                 // meaningful when status is kComplete
  std::vector<LeakSiteKinds> sites;  // sites with live blocks, when level is kFull
};

// The one field list. `v` has u8(T&) for one-byte enums, varint(uint64_t&), and
// count(uint64_t&) for the length of a list (a reader bounds it by the bytes left).
template <typename V>
bool leak_kinds_fields(V& v, KindCounts& kinds) {
  for (KindCount& k : kinds)
    if (!v.varint(k.blocks) || !v.varint(k.bytes)) return false;
  return true;
}

template <typename V>
bool leak_scan_fields(V& v, LeakScanRecord& r) {
  uint8_t version = kLeakScanVersion;
  if (!v.u8(version) || version != kLeakScanVersion) return false;
  if (!v.u8(r.status) || !v.u8(r.freeres) || !v.u8(r.level) || !v.varint(r.duration_ns) ||
      !v.varint(r.root_bytes) || !v.varint(r.block_bytes) || !v.varint(r.threads_scanned) ||
      !v.varint(r.threads_unscanned) || !leak_kinds_fields(v, r.totals))
    return false;
  uint64_t n = r.sites.size();
  if (!v.count(n)) return false;
  r.sites.resize(n);
  for (LeakSiteKinds& s : r.sites)
    if (!v.varint(s.stack_id) || !leak_kinds_fields(v, s.kinds)) return false;
  return true;
}

inline void encode_leak_scan(const LeakScanRecord& record, std::vector<uint8_t>& out) {
  encode_body(record, out, [](auto& v, LeakScanRecord& r) { return leak_scan_fields(v, r); });
}

// Nothing when the body is malformed, has trailing bytes, or is of another version.
inline std::optional<LeakScanRecord> decode_leak_scan(const uint8_t* data, size_t size) {
  // Each site takes at least 9 bytes.
  std::optional<LeakScanRecord> record = decode_body<LeakScanRecord>(
      data, size, 9, [](auto& v, LeakScanRecord& r) { return leak_scan_fields(v, r); });
  if (!record) return std::nullopt;
  if (static_cast<uint8_t>(record->status) > static_cast<uint8_t>(LeakScanStatus::kUnreadable) ||
      static_cast<uint8_t>(record->freeres) > static_cast<uint8_t>(FreeresOutcome::kNotFound) ||
      static_cast<uint8_t>(record->level) > static_cast<uint8_t>(LeakCheckLevel::kFull))
    return std::nullopt;
  return record;
}

}  // namespace memscope::format
