// Reads one trace file chunk by chunk (format/trace_format.hpp) and hands each decoded record to
// a visitor, in file order. Worker threads decompress and decode a few chunks ahead of the
// visitor; only those few are in memory at once. Never trusts the file: sizes are bounded,
// checksums verified, every read checked. A damaged or cut-short trace yields everything before the
// damage plus a message saying what was lost; it never crashes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analyzer/heap_names.hpp"
#include "format/thread_cpu.hpp"

namespace memscope::analyzer {

struct ProcessInfo {
  uint64_t pid = 0;
  uint64_t ppid = 0;
  uint64_t parent_pid = 0;  // traced parent of a fork child
  uint64_t fork_stamp = 0;
  std::string exe;
  std::vector<std::string> argv;
  std::string malloc_provider;
  uint64_t stack_depth = 0;
  uint64_t ring_slots = 0;
  bool drop_when_full = false;
  uint64_t sidecar_tid = 0;  // memscope's own thread; 0 in traces written before it was recorded
};

// A thread's own reading of its CPU time, context switches and page faults (kThreadCpu).
using ThreadCpu = format::ThreadCpuRecord;

// How the analysis knows of a thread: the agent recorded its start (kThreadStart), or the
// sidecar's samples of /proc/self/task listed it (started before the agent's hooks, or by a raw
// clone), or it is the main thread of a process that neither recorded nor sampled it.
enum class ThreadSource : uint8_t { kAgent, kSamples, kProcess };

struct ThreadInfo {
  uint64_t tid = 0;
  uint64_t parent_tid = 0;
  uint64_t start_stamp = 0;
  uint64_t end_stamp = 0;  // 0: no end known
  // No end of its own was recorded and it was alive when the process ended: end_stamp is the
  // process's end (ProcessAnalysis fills it in).
  bool end_at_process_end = false;
  ThreadSource source = ThreadSource::kAgent;
  std::string name;
  uint64_t ring_waits = 0;
  uint64_t ring_wait_ns = 0;
  uint64_t dropped_events = 0;
  std::optional<ThreadCpu> cpu_at_start;  // kThreadCpu readings, when the trace has them
  std::optional<ThreadCpu> cpu_at_end;
};

struct ModuleInfo {
  uint64_t stamp = 0;
  bool loaded = true;
  uint64_t base = 0;
  uint64_t size = 0;
  std::string path;
  std::string build_id;
};

struct ProcessEnd {
  uint64_t stamp = 0;
  uint8_t reason = 4;
  int64_t detail = 0;
  uint64_t dropped_events = 0;
  uint64_t ring_waits = 0;
};

class TraceVisitor {
 public:
  virtual ~TraceVisitor() = default;
  // The file header was valid: when the traced process started tracing.
  virtual void file_header(uint64_t /*start_monotonic_ns*/, uint64_t /*start_realtime_ns*/) {}
  virtual void process_info(const ProcessInfo&) {}
  virtual void heap_event(const HeapEvent&) = 0;
  // Consecutive heap events of one chunk, as if passed to heap_event one by one. They stay where
  // they are until chunk_delivered(), so a visitor may refer to them until then.
  virtual void heap_events(const HeapEvent* events, size_t count) {
    for (size_t i = 0; i < count; ++i) heap_event(events[i]);
  }
  // Everything of one chunk was delivered: the events passed to heap_events go away.
  virtual void chunk_delivered() {}
  // Every heap event stamped before `stamp` has been delivered already.
  virtual void watermark(uint64_t) {}
  virtual void stack(uint64_t /*id*/, const std::vector<uint64_t>& /*frames*/) {}
  virtual void module(const ModuleInfo&) {}
  virtual void thread_start(const ThreadInfo&) {}
  virtual void thread_end(const ThreadInfo&) {}
  virtual void thread_name(uint64_t /*tid*/, uint64_t /*stamp*/, const std::string&) {}
  virtual void thread_cpu(const ThreadCpu&) {}
  virtual void process_end(const ProcessEnd&) {}
  // The trace reached its size limit at `stamp`: nothing recorded later was written.
  virtual void trace_truncated(uint64_t /*stamp*/, uint64_t /*limit_bytes*/) {}
  virtual void metric_sample(uint64_t /*stamp*/, const std::string& /*body*/) {}
  // A region of the C++ API began (`begin`) or ended.
  virtual void region(uint64_t /*stamp*/, uint64_t /*id*/, bool /*begin*/) {}
  // The sidecar's heap summary (heap/heap_summary.hpp), undecoded.
  virtual void heap_summary(const std::string& /*body*/) {}
  // The agent's leak scan at the process's end (format/leak_scan.hpp), undecoded.
  virtual void leak_scan(const std::string& /*body*/) {}
  // A hardware counter reading, or why there are none (format/hw_counters.hpp), undecoded.
  virtual void hw_counters(const std::string& /*body*/) {}
  // The trace is sampled: its mean, seed and exact totals (format/sampling.hpp), undecoded.
  virtual void sampling(const std::string& /*body*/) {}
};

// Which chunks read_trace decodes (format::ChunkContent): all, or the ones without heap events
// (chunks of a version 1 trace hold both and count as such), or only the heap event chunks.
enum class ChunkSelection { kAll, kRecords, kEvents };

struct ReadResult {
  bool opened = false;   // false: not a readable memscope trace at all (see `error`)
  bool complete = true;  // false: damage or truncation lost part of the trace
  std::string error;     // what went wrong, for the user
  uint64_t pid = 0;      // from the file header, which a trace cut before its first chunk still has
  uint64_t start_monotonic_ns = 0;
  uint64_t start_realtime_ns = 0;
  uint64_t chunks = 0;  // chunks decoded (selected ones only)
};

// Reads `path`, calling `visitor` for every record of the selected chunks in file order,
// stopping after `max_chunks` chunks (selected or not).
ReadResult read_trace(const std::string& path, TraceVisitor& visitor,
                      ChunkSelection selection = ChunkSelection::kAll,
                      uint64_t max_chunks = UINT64_MAX);

}  // namespace memscope::analyzer
