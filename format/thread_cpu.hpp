// The body of a RecordType::kThreadCpu trace record: a thread's own reading of its CPU time,
// context switches and page faults, taken when it started (phase 0) or ended (phase 1), with
// memscope's waits on it so far. Its field list (`thread_cpu_fields`) is part of the record
// schema (format/records.hpp), which drives the writer, the reader and docs/trace-format.md.
#pragma once

#include <cstddef>
#include <cstdint>

namespace memscope::format {

struct ThreadCpuRecord {
  uint64_t stamp = 0;
  uint64_t tid = 0;
  uint8_t phase = 0;
  uint64_t cpu_ns = 0;
  uint64_t user_ns = 0;
  uint64_t system_ns = 0;
  uint64_t voluntary_switches = 0;
  uint64_t involuntary_switches = 0;
  uint64_t minor_faults = 0;
  uint64_t major_faults = 0;
  uint64_t profiler_wait_ns = 0;  // ring full, fork gate, flushes
};

// The one field list, a part of the record schema (format/records.hpp: ThreadCpuFrame).
template <typename V, typename R>  // R: ThreadCpuRecord, const for a writer
bool thread_cpu_fields(V& v, R& r) {
  return v.varint("stamp", r.stamp) && v.varint("tid", r.tid) && v.u8("phase", r.phase) &&
         v.varint("cpu ns", r.cpu_ns) && v.varint("user ns", r.user_ns) &&
         v.varint("system ns", r.system_ns) &&
         v.varint("voluntary switches", r.voluntary_switches) &&
         v.varint("involuntary switches", r.involuntary_switches) &&
         v.varint("minor faults", r.minor_faults) && v.varint("major faults", r.major_faults) &&
         v.varint("memscope wait ns", r.profiler_wait_ns);
}

}  // namespace memscope::format
