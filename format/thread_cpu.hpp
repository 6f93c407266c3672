// The body of a RecordType::kThreadCpu trace record: a thread's own reading of its CPU time,
// context switches and page faults, taken when it started (phase 0) or ended (phase 1), with
// memscope's waits on it so far. One field list (`thread_cpu_fields`) drives both the sidecar's
// encoder and the analyzer's decoder; docs/trace-format.md describes the same for people.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "format/body_fields.hpp"
#include "format/trace_format.hpp"

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

// The one field list; `v` is a BodyWriter or a BodyReader (body_fields.hpp).
template <typename V>
bool thread_cpu_fields(V& v, ThreadCpuRecord& r) {
  return v.varint(r.stamp) && v.varint(r.tid) && v.u8(r.phase) && v.varint(r.cpu_ns) &&
         v.varint(r.user_ns) && v.varint(r.system_ns) && v.varint(r.voluntary_switches) &&
         v.varint(r.involuntary_switches) && v.varint(r.minor_faults) && v.varint(r.major_faults) &&
         v.varint(r.profiler_wait_ns);
}

inline void encode_thread_cpu(const ThreadCpuRecord& record, std::vector<uint8_t>& out) {
  encode_body(record, out, [](auto& v, ThreadCpuRecord& r) { return thread_cpu_fields(v, r); });
}

// Nothing when the body is cut short; bytes after the fields (a later version's) are left.
inline std::optional<ThreadCpuRecord> decode_thread_cpu(const Cursor& body) {
  BodyReader r{body, 1};
  ThreadCpuRecord record;
  if (!thread_cpu_fields(r, record)) return std::nullopt;
  return record;
}

}  // namespace memscope::format
